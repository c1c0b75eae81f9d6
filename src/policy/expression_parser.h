// ExpressionParser: the grammar that row filters (row_filter.cc) and mask
// expressions (mask_expression.cc) share, as one recursive-descent base that
// each language completes with what differs. Internal to the policy module.
//
// The shared grammar, loosest binding first:
//
//   or        := and { OR and }
//   and       := not { AND not }
//   not       := NOT not | operand                      (the language's operand)
//   predicate := cmp comparand                          (= <> != < <= > >=)
//              | IS [NOT] NULL
//              | [NOT] IN '(' item { ',' item } ')'
//              | [NOT] BETWEEN comparand AND comparand
//              | [NOT] LIKE pattern
//   parens    := '(' or ')'
//   literal   := 'string' | number | NULL | TRUE | FALSE
//
// Row filters: operand := parens | TRUE | FALSE | column predicate, with
// literals for comparand, item and pattern (a string). Mask expressions:
// operand := sum [predicate], with arithmetic, CASE and function calls below.
//
// Limits: the text's length and NUL bytes are checked by CheckText()
// (expression_lexer.h); nesting (NOT, parentheses, and whatever else a
// language nests) by CheckDepth(), at most the dialect's max_depth levels. Every error is
// InvalidArgument "<language>: <what> at position <pos>", the position being
// the 1-based offset of the offending token.
//
// A parser object parses one text once; pure, no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/strings.h"
#include "policy/expression_lexer.h"
#include "policy/policy.h"

namespace lakegate::policy::internal {

// The words of the shared grammar; no language reads them as column names.
inline bool IsSharedKeyword(std::string_view word) {
  for (std::string_view k :
       {"AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS", "NULL", "TRUE", "FALSE"}) {
    if (EqualsIgnoreCase(word, k)) return true;
  }
  return false;
}

// A predicate as read after its left operand, before the language builds its
// node from it.
template <typename Operand>
struct Predicate {
  // In this order: languages map a Kind to their node kinds by index.
  enum class Kind { kCompare, kIsNull, kIn, kBetween, kLike };
  static constexpr size_t kKindCount = 5;
  Kind kind = Kind::kCompare;
  std::string op;        // kCompare: "=", "<>", "<", "<=", ">", ">=" ("!=" reads as "<>")
  bool negated = false;  // IS NOT NULL, NOT IN, NOT BETWEEN, NOT LIKE
  size_t pos = 0;        // of the predicate's first token (the operator, IS or NOT)
  // kCompare: the comparand; kIn: the items; kBetween: low, high; kLike: the
  // pattern; kIsNull: none.
  std::vector<Operand> operands;
};

enum class Logical { kAnd, kOr, kNot };

// `Derived` (CRTP) supplies:
//   static constexpr std::string_view kExpectedAtEnd;  // "expected X" when text is left over
//   static constexpr bool kListItemsNest;  // IN-list items are nested expressions
//   Result<NodePtr> ParseOperand(int depth);           // what NOT applies to
//   Result<NodePtr> MakeLogical(Logical op, size_t pos, NodePtr left, NodePtr right);
//       // `pos` is the keyword's; NOT has no `right`
//   Result<Operand> ParseComparand(int depth);
//   Result<Operand> ParseListItem(int depth);  // depth of the list's contents
//   Result<Operand> ParsePattern(int depth);
// and may hide Expected() to word some errors its own way.
template <typename Derived, typename NodePtr, typename Operand>
class ExpressionParser : protected TokenCursor {
 protected:
  ExpressionParser(const Dialect& dialect, std::vector<Token> tokens)
      : TokenCursor(std::move(tokens)), dialect_(dialect) {}

  // The whole text as one expression.
  Result<NodePtr> ParseExpression() {
    LG_ASSIGN_OR_RETURN(NodePtr root, ParseOr(0));
    if (Peek().type != Token::Type::kEnd) return self().Expected(Derived::kExpectedAtEnd);
    return root;
  }

  Result<NodePtr> ParseOr(int depth) {
    return ParseConnective(depth, Logical::kOr, &ExpressionParser::ParseAnd);
  }
  Result<NodePtr> ParseAnd(int depth) {
    return ParseConnective(depth, Logical::kAnd, &ExpressionParser::ParseNot);
  }

  Result<NodePtr> ParseNot(int depth) {
    if (!PeekKeyword("NOT")) return self().ParseOperand(depth);
    size_t pos = Take().pos;
    LG_RETURN_IF_ERROR(CheckDepth(depth + 1, pos));
    LG_ASSIGN_OR_RETURN(NodePtr operand, ParseNot(depth + 1));
    return self().MakeLogical(Logical::kNot, pos, std::move(operand), NodePtr());
  }

  // '(' or ')', the next token being '('.
  Result<NodePtr> ParseParenthesized(int depth) {
    size_t pos = Take().pos;
    LG_RETURN_IF_ERROR(CheckDepth(depth + 1, pos));
    LG_ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
    if (!PeekSymbol(")")) return self().Expected("')'");
    Take();
    return inner;
  }

  // The predicate that follows a left operand, or nullopt (nothing read) when
  // the next token starts none.
  Result<std::optional<Predicate<Operand>>> ParsePredicate(int depth) {
    using P = Predicate<Operand>;
    P p;
    const Token& t = Peek();
    p.pos = t.pos;
    if (t.type == Token::Type::kSymbol && IsComparison(t.text)) {
      p.kind = P::Kind::kCompare;
      p.op = t.text == "!=" ? "<>" : t.text;
      Take();
      LG_ASSIGN_OR_RETURN(Operand right, self().ParseComparand(depth));
      p.operands.push_back(std::move(right));
      return std::optional<P>(std::move(p));
    }
    if (PeekKeyword("IS")) {
      Take();
      p.kind = P::Kind::kIsNull;
      if (PeekKeyword("NOT")) {
        Take();
        p.negated = true;
      }
      if (!PeekKeyword("NULL")) return self().Expected("NULL");
      Take();
      return std::optional<P>(std::move(p));
    }
    if (PeekKeyword("NOT")) {
      Take();
      p.negated = true;
      if (!PeekKeyword("IN") && !PeekKeyword("BETWEEN") && !PeekKeyword("LIKE")) {
        return self().Expected("IN, BETWEEN or LIKE after NOT");
      }
    }
    if (PeekKeyword("IN")) {
      Take();
      p.kind = P::Kind::kIn;
      if (!PeekSymbol("(")) return self().Expected("'(' after IN");
      size_t open = Take().pos;
      if constexpr (Derived::kListItemsNest) LG_RETURN_IF_ERROR(CheckDepth(depth + 1, open));
      LG_RETURN_IF_ERROR(ParseListRest(
          p.operands, [&] { return self().ParseListItem(depth + 1); }, "the IN list"));
      return std::optional<P>(std::move(p));
    }
    if (PeekKeyword("BETWEEN")) {
      Take();
      p.kind = P::Kind::kBetween;
      LG_ASSIGN_OR_RETURN(Operand low, self().ParseComparand(depth));
      if (!PeekKeyword("AND")) return self().Expected("AND in BETWEEN");
      Take();
      LG_ASSIGN_OR_RETURN(Operand high, self().ParseComparand(depth));
      p.operands.push_back(std::move(low));
      p.operands.push_back(std::move(high));
      return std::optional<P>(std::move(p));
    }
    if (PeekKeyword("LIKE")) {
      Take();
      p.kind = P::Kind::kLike;
      LG_ASSIGN_OR_RETURN(Operand pattern, self().ParsePattern(depth));
      p.operands.push_back(std::move(pattern));
      return std::optional<P>(std::move(p));
    }
    return std::optional<P>();
  }

  // item { ',' item } ')', the '(' being taken: appends each item that
  // `parse_item` reads to `items`. "expected ',' or ')' in <where>" when
  // another token follows an item.
  template <typename Item, typename ParseItem>
  Status ParseListRest(std::vector<Item>& items, ParseItem parse_item, std::string_view where) {
    while (true) {
      LG_ASSIGN_OR_RETURN(Item item, parse_item());
      items.push_back(std::move(item));
      if (PeekSymbol(",")) {
        Take();
        continue;
      }
      if (PeekSymbol(")")) {
        Take();
        return Status::Ok();
      }
      return self().Expected("',' or ')' in " + std::string(where));
    }
  }

  // The literal at the read position, taken, or nullopt (nothing taken) when
  // the next token is not one. TRUE and FALSE are the integers 1 and 0.
  Result<std::optional<RowFilter::Value>> TakeLiteral() {
    using Value = RowFilter::Value;
    const Token& t = Peek();
    Value v;
    if (t.type == Token::Type::kString) {
      v.type = Value::Type::kText;
      v.t = Take().text;
      return std::optional<Value>(std::move(v));
    }
    if (t.type == Token::Type::kNumber) {
      LG_ASSIGN_OR_RETURN(v, NumberValue(dialect_, t.text, t.pos));
      Take();
      return std::optional<Value>(std::move(v));
    }
    if (PeekKeyword("NULL")) {
      Take();
      return std::optional<Value>(std::move(v));
    }
    if (PeekKeyword("TRUE") || PeekKeyword("FALSE")) {
      v.type = Value::Type::kInteger;
      v.i = PeekKeyword("TRUE") ? 1 : 0;
      Take();
      return std::optional<Value>(std::move(v));
    }
    return std::optional<Value>();
  }

  // "expected <what>, found <the next token>" at the next token.
  Status Expected(std::string_view what) const {
    return ErrorAt(Peek().pos, "expected " + std::string(what) + ", found " + Describe(Peek()));
  }

  Status ErrorAt(size_t pos, std::string_view what) const { return dialect_.ErrorAt(pos, what); }
  std::string Describe(const Token& t) const { return dialect_.Describe(t); }
  const Dialect& dialect() const { return dialect_; }

  // An error at `pos` when `depth` is more than the dialect's max_depth.
  Status CheckDepth(int depth, size_t pos) const {
    if (depth > dialect_.max_depth) {
      return ErrorAt(pos, "nested more than " + std::to_string(dialect_.max_depth) + " levels");
    }
    return Status::Ok();
  }

 private:
  // operand { keyword operand }, left-associative, for AND and OR.
  Result<NodePtr> ParseConnective(int depth, Logical op,
                                  Result<NodePtr> (ExpressionParser::*operand)(int)) {
    const std::string_view keyword = op == Logical::kOr ? "OR" : "AND";
    LG_ASSIGN_OR_RETURN(NodePtr left, (this->*operand)(depth));
    while (PeekKeyword(keyword)) {
      size_t pos = Take().pos;
      LG_ASSIGN_OR_RETURN(NodePtr right, (this->*operand)(depth));
      LG_ASSIGN_OR_RETURN(left, self().MakeLogical(op, pos, std::move(left), std::move(right)));
    }
    return left;
  }

  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }

  const Dialect& dialect_;
};

}  // namespace lakegate::policy::internal
