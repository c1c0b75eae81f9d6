// Mask expressions: a strict recursive-descent parser for the SQL value
// expressions of policy.h and their compiler to SQL. Pure; a parsed
// MaskExpression is immutable and may be shared between threads.
//
// Safety: ToSql() emits only our own text (keywords, whitelisted function
// names, operators, parentheses, literals re-rendered from their parsed
// values) plus what `column_sql` returns; nothing of the written expression
// is copied except string contents (re-quoted) and column names (handed to
// `column_sql`). Every operator is parenthesized, so the output's meaning
// never depends on SQLite's precedence table, and the output never holds
// "--" or "/*" outside a string literal (see AppendSql()).
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "common/strings.h"
#include "policy/expression_lexer.h"
#include "policy/expression_parser.h"
#include "policy/policy.h"

namespace lakegate::policy {

struct MaskExpressionNode {
  enum class Kind {
    kLiteral,
    kColumn,
    kNegate,  // unary '-'
    kNot,
    kAnd,
    kOr,
    kCompare,     // op: "=", "<>", "<", "<=", ">", ">="
    kArithmetic,  // op: "||", "+", "-", "*", "/", "%"
    kIsNull,
    kIn,
    kBetween,
    kLike,
    kFunction,
    kCase,
  };
  Kind kind = Kind::kLiteral;
  RowFilter::Value literal;  // kLiteral
  std::string name;          // kColumn: as written (unquoted); kFunction: lower-case name
  std::string op;            // kCompare, kArithmetic
  bool negated = false;      // IS NOT NULL, NOT IN, NOT BETWEEN, NOT LIKE
  bool has_else = false;     // kCase
  // In source order. kNegate, kNot, kIsNull: 1; kAnd, kOr, kCompare,
  // kArithmetic, kLike: 2; kBetween: value, low, high; kIn: value then the
  // list; kFunction: the arguments; kCase: WHEN/THEN pairs, then the ELSE.
  std::vector<std::shared_ptr<const MaskExpressionNode>> operands;
  int height = 0;  // 0 for literals and columns, else 1 + the highest operand's
};

namespace {

using internal::Token;
using Node = MaskExpressionNode;
using NodePtr = std::shared_ptr<const MaskExpressionNode>;
using Value = RowFilter::Value;
using Predicate = internal::Predicate<NodePtr>;

// The node kind of each Predicate::Kind, in its order.
constexpr std::array<Node::Kind, Predicate::kKindCount> kPredicateKinds = {
    Node::Kind::kCompare, Node::Kind::kIsNull, Node::Kind::kIn, Node::Kind::kBetween,
    Node::Kind::kLike};

const internal::Dialect& kDialect = internal::kMaskExpressionDialect;

// The function whitelist, with SQLite's arities. Each is deterministic and
// reads only its arguments.
constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();
struct Function {
  std::string_view name;
  size_t min_args;
  size_t max_args;
};
constexpr std::array<Function, 12> kFunctions = {{
    {"lower", 1, 1},
    {"upper", 1, 1},
    {"length", 1, 1},
    {"substr", 2, 3},
    {"replace", 3, 3},
    {"trim", 1, 2},
    {"ltrim", 1, 2},
    {"rtrim", 1, 2},
    {"coalesce", 2, kUnbounded},
    {"ifnull", 2, 2},
    {"nullif", 2, 2},
    {"instr", 2, 2},
}};

const Function* FindFunction(std::string_view name) {
  for (const Function& f : kFunctions) {
    if (EqualsIgnoreCase(f.name, name)) return &f;
  }
  return nullptr;
}

std::string AllowedFunctions() {
  std::string out;
  for (const Function& f : kFunctions) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

std::string ArityError(const Function& f, size_t found) {
  std::string takes;
  if (f.max_args == kUnbounded) {
    takes = "at least " + std::to_string(f.min_args) + " arguments";
  } else if (f.min_args == f.max_args) {
    takes = std::to_string(f.min_args) + (f.min_args == 1 ? " argument" : " arguments");
  } else {
    takes = std::to_string(f.min_args) + " or " + std::to_string(f.max_args) + " arguments";
  }
  return std::string(f.name) + " takes " + takes + ", found " + std::to_string(found);
}

// Words of the grammar (the shared ones, internal::IsSharedKeyword, and
// CASE's), and SQL words that introduce what the language does not have.
// None of them is read as a column name ("quote" it for a column of that
// name).
constexpr std::array<std::string_view, 5> kCaseKeywords = {"CASE", "WHEN", "THEN", "ELSE", "END"};
// Where an expression is expected.
constexpr std::array<std::string_view, 4> kSubqueryKeywords = {"SELECT", "EXISTS", "WITH",
                                                               "VALUES"};
// Where an operator is expected (after an operand).
constexpr std::array<std::string_view, 7> kUnsupportedOperators = {
    "COLLATE", "ESCAPE", "GLOB", "REGEXP", "MATCH", "ISNULL", "NOTNULL"};
constexpr std::array<std::string_view, 9> kOtherReserved = {
    "CAST",         "DISTINCT",         "FROM", "WHERE", "RAISE", "ALL", "CURRENT_DATE",
    "CURRENT_TIME", "CURRENT_TIMESTAMP"};

template <size_t N>
const std::string_view* FindWord(const std::array<std::string_view, N>& words,
                                 std::string_view word) {
  for (const std::string_view& w : words) {
    if (EqualsIgnoreCase(w, word)) return &w;
  }
  return nullptr;
}

bool IsReserved(std::string_view word) {
  return internal::IsSharedKeyword(word) || FindWord(kCaseKeywords, word) ||
         FindWord(kSubqueryKeywords, word) || FindWord(kUnsupportedOperators, word) ||
         FindWord(kOtherReserved, word);
}

// The shared grammar (expression_parser.h) with arithmetic, function calls and
// CASE below the predicates, whose right-hand sides are expressions too.
class Parser : public internal::ExpressionParser<Parser, NodePtr, NodePtr> {
 public:
  Parser(const internal::Dialect& dialect, std::vector<Token> tokens)
      : ExpressionParser(dialect, std::move(tokens)) {}

  Result<NodePtr> Parse() { return ParseExpression(); }

 private:
  friend ExpressionParser;
  static constexpr std::string_view kExpectedAtEnd = "an operator or the end of the expression";
  static constexpr bool kListItemsNest = true;

  // "expected <what>, found <next token>"; an SQL operator word the language
  // lacks (COLLATE, ESCAPE, GLOB, ...) is named as unsupported instead.
  Status Expected(std::string_view what) const {
    const Token& t = Peek();
    if (t.type == Token::Type::kWord) {
      if (const std::string_view* w = FindWord(kUnsupportedOperators, t.text)) {
        return ErrorAt(t.pos, std::string(*w) + " is not supported");
      }
    }
    return ExpressionParser::Expected(what);
  }

  // A node over `operands`; an error at `pos` when it would nest deeper than
  // the dialect's max_depth (which bounds the recursion of ToSql() and the depth of the
  // expression tree SQLite builds from the output).
  Result<NodePtr> Make(size_t pos, std::shared_ptr<Node> n, std::vector<NodePtr> operands) const {
    int height = 0;
    for (const NodePtr& o : operands) height = std::max(height, o->height);
    n->height = height + 1;
    LG_RETURN_IF_ERROR(CheckDepth(n->height, pos));
    n->operands = std::move(operands);
    return NodePtr(std::move(n));
  }
  static std::shared_ptr<Node> New(Node::Kind kind, std::string op = "") {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->op = std::move(op);
    return n;
  }

  Result<NodePtr> MakeLogical(internal::Logical op, size_t pos, NodePtr left, NodePtr right) {
    switch (op) {
      case internal::Logical::kAnd:
        return Make(pos, New(Node::Kind::kAnd), {std::move(left), std::move(right)});
      case internal::Logical::kOr:
        return Make(pos, New(Node::Kind::kOr), {std::move(left), std::move(right)});
      case internal::Logical::kNot:
        break;
    }
    return Make(pos, New(Node::Kind::kNot), {std::move(left)});
  }

  // sum [predicate]
  Result<NodePtr> ParseOperand(int depth) {
    LG_ASSIGN_OR_RETURN(NodePtr left, ParseConcat(depth));
    LG_ASSIGN_OR_RETURN(std::optional<Predicate> predicate, ParsePredicate(depth));
    if (!predicate) return left;
    std::shared_ptr<Node> n =
        New(kPredicateKinds[static_cast<size_t>(predicate->kind)], std::move(predicate->op));
    n->negated = predicate->negated;
    std::vector<NodePtr> operands;
    operands.reserve(1 + predicate->operands.size());
    operands.push_back(std::move(left));
    for (NodePtr& o : predicate->operands) operands.push_back(std::move(o));
    return Make(predicate->pos, std::move(n), std::move(operands));
  }

  Result<NodePtr> ParseComparand(int depth) { return ParseConcat(depth); }
  Result<NodePtr> ParseListItem(int depth) { return ParseOr(depth); }
  Result<NodePtr> ParsePattern(int depth) { return ParseConcat(depth); }

  // One level of left-associative binary operators: `symbols` between
  // operands read by `operand`.
  template <typename OperandFn>
  Result<NodePtr> ParseBinary(int depth, std::initializer_list<std::string_view> symbols,
                              OperandFn operand) {
    LG_ASSIGN_OR_RETURN(NodePtr left, (this->*operand)(depth));
    while (true) {
      const Token& t = Peek();
      bool match = false;
      for (std::string_view s : symbols) match = match || PeekSymbol(s);
      if (!match) return left;
      Take();
      LG_ASSIGN_OR_RETURN(NodePtr right, (this->*operand)(depth));
      LG_ASSIGN_OR_RETURN(left, Make(t.pos, New(Node::Kind::kArithmetic, t.text), {left, right}));
    }
  }

  Result<NodePtr> ParseConcat(int depth) {
    return ParseBinary(depth, {"||"}, &Parser::ParseAdditive);
  }
  Result<NodePtr> ParseAdditive(int depth) {
    return ParseBinary(depth, {"+", "-"}, &Parser::ParseMultiplicative);
  }
  Result<NodePtr> ParseMultiplicative(int depth) {
    return ParseBinary(depth, {"*", "/", "%"}, &Parser::ParseUnary);
  }

  Result<NodePtr> ParseUnary(int depth) {
    if (!PeekSymbol("-")) return ParsePrimary(depth);
    size_t pos = Take().pos;
    LG_RETURN_IF_ERROR(CheckDepth(depth + 1, pos));
    // -9223372036854775808 is the one integer whose magnitude is out of
    // range: read it as a negative literal, as SQLite does.
    const Token& t = Peek();
    if (t.type == Token::Type::kNumber && t.text.find_first_of(".eE") == std::string::npos &&
        !internal::NumberValue(kDialect, t.text, t.pos).ok()) {
      if (auto v = internal::NumberValue(kDialect, "-" + t.text, t.pos); v.ok()) {
        Take();
        auto n = New(Node::Kind::kLiteral);
        n->literal = *v;
        return NodePtr(std::move(n));
      }
    }
    LG_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary(depth + 1));
    return Make(pos, New(Node::Kind::kNegate), {operand});
  }

  // literal | parens | "column" | word
  Result<NodePtr> ParsePrimary(int depth) {
    LG_ASSIGN_OR_RETURN(std::optional<Value> literal, TakeLiteral());
    if (literal) {
      auto n = New(Node::Kind::kLiteral);
      n->literal = std::move(*literal);
      return NodePtr(std::move(n));
    }
    const Token& t = Peek();
    if (PeekSymbol("(")) return ParseParenthesized(depth);
    if (t.type == Token::Type::kQuotedIdent) {
      auto n = New(Node::Kind::kColumn);
      n->name = Take().text;
      return NodePtr(std::move(n));
    }
    if (t.type == Token::Type::kWord) return ParseWord(depth);
    return ErrorAt(t.pos, "expected an expression, found " + Describe(t));
  }

  // CASE | function call | column (literal words are taken before)
  Result<NodePtr> ParseWord(int depth) {
    const Token& t = Peek();
    if (PeekKeyword("CASE")) return ParseCase(depth);
    if (FindWord(kSubqueryKeywords, t.text)) return ErrorAt(t.pos, "subqueries are not allowed");
    if (PeekKeyword("CAST")) return ErrorAt(t.pos, "CAST is not supported");
    if (IsReserved(t.text)) {
      return ErrorAt(t.pos, "expected an expression, found " + Describe(t));
    }
    if (PeekNext().type == Token::Type::kSymbol && PeekNext().text == "(") {
      return ParseCall(depth);
    }
    auto n = New(Node::Kind::kColumn);
    n->name = Take().text;
    return NodePtr(std::move(n));
  }

  Result<NodePtr> ParseCall(int depth) {
    const Token& name = Take();
    const Function* f = FindFunction(name.text);
    if (f == nullptr) {
      // The position goes before the list so that it stays next to the name.
      return InvalidArgumentError(std::string(kDialect.name) + ": unknown function '" + name.text +
                                  "' at position " + std::to_string(name.pos) +
                                  "; allowed: " + AllowedFunctions());
    }
    LG_RETURN_IF_ERROR(CheckDepth(depth + 1, Take().pos));  // '('
    std::vector<NodePtr> args;
    if (PeekSymbol(")")) {
      Take();
    } else {
      LG_RETURN_IF_ERROR(ParseListRest(
          args, [&] { return ParseOr(depth + 1); }, "the arguments of " + std::string(f->name)));
    }
    if (args.size() < f->min_args || args.size() > f->max_args) {
      return ErrorAt(name.pos, ArityError(*f, args.size()));
    }
    auto n = New(Node::Kind::kFunction);
    n->name = std::string(f->name);
    return Make(name.pos, std::move(n), std::move(args));
  }

  Result<NodePtr> ParseCase(int depth) {
    size_t pos = Take().pos;
    LG_RETURN_IF_ERROR(CheckDepth(depth + 1, pos));
    if (!PeekKeyword("WHEN")) return Expected("WHEN after CASE");
    auto n = New(Node::Kind::kCase);
    std::vector<NodePtr> operands;
    while (PeekKeyword("WHEN")) {
      Take();
      LG_ASSIGN_OR_RETURN(NodePtr when, ParseOr(depth + 1));
      if (!PeekKeyword("THEN")) return Expected("THEN");
      Take();
      LG_ASSIGN_OR_RETURN(NodePtr then, ParseOr(depth + 1));
      operands.push_back(std::move(when));
      operands.push_back(std::move(then));
    }
    if (PeekKeyword("ELSE")) {
      Take();
      LG_ASSIGN_OR_RETURN(NodePtr otherwise, ParseOr(depth + 1));
      operands.push_back(std::move(otherwise));
      n->has_else = true;
    }
    if (!PeekKeyword("END")) return Expected(n->has_else ? "END" : "WHEN, ELSE or END");
    Take();
    return Make(pos, std::move(n), std::move(operands));
  }
};

// A literal as SQL. Only INT64_MIN is negative (reals and the other integers
// are read unsigned); it is parenthesized so that no '-' of ours can touch it.
std::string LiteralSql(const Value& v) {
  std::string sql = internal::LiteralSql(v);
  return !sql.empty() && sql[0] == '-' ? "(" + sql + ")" : sql;
}

// The pieces that differ between dialects.
//
// A column reference: SQLite without affinity (unary +) and with BINARY
// collation, as for row filters; Trino's typed values need neither.
std::string ColumnRef(SqlDialect dialect, const std::string& quoted) {
  if (dialect == SqlDialect::kTrino) return quoted;
  return "(+" + quoted + " COLLATE BINARY)";
}

// A literal integer >= 0 (a negative one parses as a negation).
bool IsNonNegativeLiteral(const Node& n) {
  return n.kind == Node::Kind::kLiteral && n.literal.type == Value::Type::kInteger &&
         n.literal.i >= 0 && n.literal.i <= std::numeric_limits<int32_t>::max();
}

// The value of a literal integer, negated or not, within 32 bits.
std::optional<int64_t> IntLiteral(const Node& n) {
  if (IsNonNegativeLiteral(n)) return n.literal.i;
  if (n.kind == Node::Kind::kNegate && IsNonNegativeLiteral(*n.operands[0])) {
    return -n.operands[0]->literal.i;
  }
  return std::nullopt;
}

// substr's arguments Trino can render with SQLite's value: a literal
// position of any sign and, if given, a literal length >= 0.
bool TrinoSubstrRenders(const Node& n) {
  return n.operands.size() >= 2 && IntLiteral(*n.operands[1]).has_value() &&
         (n.operands.size() < 3 || IsNonNegativeLiteral(*n.operands[2]));
}

// How many times AppendSql() renders operand `i` of `n` for Trino: more than
// once for the string of a substr with a negative position (its length is
// computed from it) and the string and pattern of a replace with a computed
// pattern (the CASE for an empty one).
int TrinoRenderings(const Node& n, size_t i) {
  if (n.kind != Node::Kind::kFunction) return 1;
  if (n.name == "substr" && i == 0 && TrinoSubstrRenders(n) && *IntLiteral(*n.operands[1]) < 0) {
    return n.operands.size() > 2 ? 3 : 2;
  }
  if (n.name == "replace" && i < 2 && n.operands[1]->kind != Node::Kind::kLiteral) return 2;
  return 1;
}

// The name of one of the grammar's functions (lower case, as parsed) in the
// dialect. Trino has SQLite's others under the same names and argument order
// (substr counts a negative start from the end in both).
std::string FunctionName(SqlDialect dialect, const std::string& name) {
  if (dialect == SqlDialect::kTrino) {
    if (name == "ifnull") return "coalesce";
    if (name == "instr") return "strpos";
  }
  return name;
}

// Every node renders as one token (a literal, a function call) or inside its
// own parentheses, and operators are surrounded by spaces; so the output has
// no "--" or "/*" outside strings whatever the tree (a '-' or '/' of ours is
// always followed by a space).
void AppendSql(const Node& n, const std::function<std::string(std::string_view)>& column_sql,
               SqlDialect dialect, std::string& out) {
  auto operand = [&](size_t i) { AppendSql(*n.operands[i], column_sql, dialect, out); };
  switch (n.kind) {
    case Node::Kind::kLiteral:
      out += LiteralSql(n.literal);
      return;
    case Node::Kind::kColumn:
      out += ColumnRef(dialect, column_sql(n.name));
      return;
    case Node::Kind::kNegate:
      out += "(- ";
      operand(0);
      out += ")";
      return;
    case Node::Kind::kNot:
      out += "(NOT ";
      operand(0);
      out += ")";
      return;
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
    case Node::Kind::kCompare:
    case Node::Kind::kArithmetic:
      out += "(";
      operand(0);
      out += n.kind == Node::Kind::kAnd  ? " AND "
             : n.kind == Node::Kind::kOr ? " OR "
                                         : " " + n.op + " ";
      operand(1);
      out += ")";
      return;
    case Node::Kind::kIsNull:
      out += "(";
      operand(0);
      out += n.negated ? " IS NOT NULL)" : " IS NULL)";
      return;
    case Node::Kind::kIn:
      out += "(";
      operand(0);
      out += n.negated ? " NOT IN (" : " IN (";
      for (size_t i = 1; i < n.operands.size(); ++i) {
        if (i > 1) out += ", ";
        operand(i);
      }
      out += "))";
      return;
    case Node::Kind::kBetween:
      out += "(";
      operand(0);
      out += n.negated ? " NOT BETWEEN " : " BETWEEN ";
      operand(1);
      out += " AND ";
      operand(2);
      out += ")";
      return;
    case Node::Kind::kLike: {
      // SQLite's LIKE folds ASCII letters; Trino's is case-sensitive, so
      // both sides are folded there (ASCII only, as for row filters).
      const bool fold = dialect == SqlDialect::kTrino;
      auto side = [&](size_t i) {
        if (fold) out += "translate(";
        operand(i);
        if (fold) out += ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";
      };
      out += "(";
      side(0);
      out += n.negated ? " NOT LIKE " : " LIKE ";
      side(1);
      out += ")";
      return;
    }
    case Node::Kind::kFunction:
      if (dialect == SqlDialect::kTrino && n.name == "substr" && TrinoSubstrRenders(n)) {
        // SQLite's substr (func.c): position 0 is position 1 with one
        // character less; a position -K counts from the end and, before the
        // first character, starts there with the length cut by the
        // overshoot. Trino returns '' for a start outside the string, so a
        // negative one is computed from the length.
        const int64_t start = *IntLiteral(*n.operands[1]);
        const bool has_length = n.operands.size() > 2;
        const int64_t length = has_length ? n.operands[2]->literal.i : 0;
        out += "substr(";
        operand(0);
        if (start > 0) {
          out += ", " + std::to_string(start);
          if (has_length) out += ", " + std::to_string(length);
        } else if (start == 0) {
          out += ", 1";
          if (has_length) out += ", " + std::to_string(std::max<int64_t>(length - 1, 0));
        } else {
          const std::string k = std::to_string(-start);
          out += ", greatest(length(";
          operand(0);
          out += ") - " + k + " + 1, 1)";
          if (has_length) {
            out += ", greatest(" + std::to_string(length) + " - greatest(" + k + " - length(";
            operand(0);
            out += "), 0), 0)";
          }
        }
        out += ")";
        return;
      }
      if (dialect == SqlDialect::kTrino && n.name == "replace") {
        // SQLite's replace(X, '', Y) is X (Trino's inserts Y between
        // characters).
        const Node& pattern = *n.operands[1];
        if (pattern.kind == Node::Kind::kLiteral) {
          if (pattern.literal.type == Value::Type::kText && pattern.literal.t.empty()) {
            operand(0);
            return;
          }
        } else {
          out += "(CASE WHEN ";
          operand(1);
          out += " = '' THEN ";
          operand(0);
          out += " ELSE replace(";
          for (size_t i = 0; i < 3; ++i) {
            if (i > 0) out += ", ";
            operand(i);
          }
          out += ") END)";
          return;
        }
      }
      out += FunctionName(dialect, n.name) + "(";
      for (size_t i = 0; i < n.operands.size(); ++i) {
        if (i > 0) out += ", ";
        operand(i);
      }
      out += ")";
      return;
    case Node::Kind::kCase: {
      out += "(CASE";
      size_t pairs = n.operands.size() / 2;
      for (size_t i = 0; i < pairs; ++i) {
        out += " WHEN ";
        operand(2 * i);
        out += " THEN ";
        operand(2 * i + 1);
      }
      if (n.has_else) {
        out += " ELSE ";
        operand(n.operands.size() - 1);
      }
      out += " END)";
      return;
    }
  }
}

// ---- PostgreSQL: statically typed, SQLite's values or a refusal ----

using Kind = MaskColumnSql::Kind;

// The kind of a rendered PostgreSQL value. kBool is a comparison's result
// (SQLite's 1/0); kNull an untyped NULL.
enum class PgKind { kNull, kInteger, kReal, kText, kBool };

struct PgValue {
  std::string sql;
  PgKind kind = PgKind::kNull;
  const Node* node = nullptr;  // what it was rendered from
};

constexpr std::string_view kUpperAscii = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'";
constexpr std::string_view kLowerAscii = "'abcdefghijklmnopqrstuvwxyz'";
constexpr int64_t kExactInDouble = int64_t{1} << 53;

Status Refused(std::string_view what) {
  return Status(StatusCode::kFailedPrecondition, std::string(kDialect.name) + ": " +
                                                     std::string(what) +
                                                     " has no exact PostgreSQL counterpart");
}

class PgRenderer {
 public:
  explicit PgRenderer(
      const std::function<std::optional<MaskColumnSql>(std::string_view column)>& column)
      : column_(column) {}

  Result<PgValue> Render(const Node& n) {
    LG_ASSIGN_OR_RETURN(PgValue v, RenderNode(n));
    v.node = &n;
    return v;
  }

  // A value where SQLite needs one: a comparison's boolean as 1/0.
  static PgValue AsValue(PgValue v) {
    if (v.kind == PgKind::kBool) {
      v.sql = "((" + v.sql + ")::integer::bigint)";
      v.kind = PgKind::kInteger;
    }
    return v;
  }
  // A condition: numbers are true when non-zero, as in SQLite.
  static Result<std::string> AsCondition(const PgValue& v) {
    switch (v.kind) {
      case PgKind::kBool:
        return v.sql;
      case PgKind::kNull:
        return std::string("(NULL::boolean)");
      case PgKind::kInteger:
      case PgKind::kReal:
        return "(" + v.sql + " <> 0)";
      case PgKind::kText:
        break;
    }
    return Refused("text used as a condition (SQLite reads it as a number)");
  }
  // Text, as SQLite converts integers to it (decimal digits).
  static Result<std::string> AsText(const PgValue& value) {
    PgValue v = AsValue(value);
    switch (v.kind) {
      case PgKind::kText:
        return v.sql;
      case PgKind::kNull:
        return std::string("(NULL::text COLLATE \"C\")");
      case PgKind::kInteger:
        return "((" + v.sql + ")::text COLLATE \"C\")";
      case PgKind::kReal:
      case PgKind::kBool:
        break;
    }
    return Refused("a real number as text (SQLite and PostgreSQL print reals differently)");
  }

 private:
  static bool IsIntegerLiteral(const Node* n, int64_t limit) {
    return n != nullptr && n->kind == Node::Kind::kLiteral &&
           n->literal.type == Value::Type::kInteger && n->literal.i >= -limit &&
           n->literal.i <= limit;
  }

  // Two values SQLite compares by value: the same kind (an integer literal
  // next to a real is read as that real, exactly), or NULL on either side.
  static Status Comparable(PgValue& a, PgValue& b) {
    a = AsValue(std::move(a));
    b = AsValue(std::move(b));
    if (a.kind == PgKind::kNull || b.kind == PgKind::kNull || a.kind == b.kind) {
      return Status::Ok();
    }
    for (auto [x, y] : {std::pair<PgValue*, PgValue*>{&a, &b}, {&b, &a}}) {
      if (x->kind == PgKind::kInteger && y->kind == PgKind::kReal &&
          IsIntegerLiteral(x->node, kExactInDouble)) {
        x->sql = "(" + x->sql + "::double precision)";
        x->kind = PgKind::kReal;
        return Status::Ok();
      }
    }
    if (a.kind == PgKind::kText || b.kind == PgKind::kText) {
      return Refused("comparing text with a number (SQLite orders every number before text)");
    }
    return Refused(
        "comparing an integer with a real number other than an integer literal (SQLite "
        "compares them exactly, PostgreSQL in double precision)");
  }

  // The common kind of values that may each be the result (CASE, coalesce).
  static Result<PgKind> CommonKind(std::vector<PgValue>& values, std::string_view what) {
    PgKind kind = PgKind::kNull;
    for (PgValue& v : values) {
      v = AsValue(std::move(v));
      if (v.kind == PgKind::kNull) continue;
      if (kind != PgKind::kNull && kind != v.kind) {
        return Refused(std::string(what) +
                       " mixing kinds of values (SQLite returns each as it is)");
      }
      kind = v.kind;
    }
    return kind;
  }

  Result<std::vector<PgValue>> Operands(const Node& n) {
    std::vector<PgValue> out;
    for (const NodePtr& o : n.operands) {
      LG_ASSIGN_OR_RETURN(PgValue v, Render(*o));
      out.push_back(std::move(v));
    }
    return out;
  }

  Result<PgValue> RenderNode(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kLiteral:
        return Literal(n.literal);
      case Node::Kind::kColumn: {
        std::optional<MaskColumnSql> c = column_(n.name);
        if (!c) return Refused("column " + n.name + "'s type");
        switch (c->kind) {
          case Kind::kInteger:
            return PgValue{"(" + c->sql + ")::bigint", PgKind::kInteger};
          case Kind::kReal:
            return PgValue{"(" + c->sql + ")::double precision", PgKind::kReal};
          case Kind::kText:
            return PgValue{"(" + c->sql + " COLLATE \"C\")", PgKind::kText};
        }
        return Refused("column " + n.name + "'s type");
      }
      case Node::Kind::kNegate: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        PgValue v = AsValue(std::move(ops[0]));
        if (v.kind == PgKind::kText) return Refused("arithmetic on text");
        if (v.kind == PgKind::kNull) return PgValue{"NULL", PgKind::kNull};
        return PgValue{"(- " + v.sql + ")", v.kind};
      }
      case Node::Kind::kNot: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        LG_ASSIGN_OR_RETURN(std::string c, AsCondition(ops[0]));
        return PgValue{"(NOT " + c + ")", PgKind::kBool};
      }
      case Node::Kind::kAnd:
      case Node::Kind::kOr: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        LG_ASSIGN_OR_RETURN(std::string a, AsCondition(ops[0]));
        LG_ASSIGN_OR_RETURN(std::string b, AsCondition(ops[1]));
        return PgValue{"(" + a + (n.kind == Node::Kind::kAnd ? " AND " : " OR ") + b + ")",
                       PgKind::kBool};
      }
      case Node::Kind::kCompare: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        LG_RETURN_IF_ERROR(Comparable(ops[0], ops[1]));
        if (ops[0].kind == PgKind::kNull || ops[1].kind == PgKind::kNull) {
          return PgValue{"(NULL::boolean)", PgKind::kBool};
        }
        return PgValue{"(" + ops[0].sql + " " + n.op + " " + ops[1].sql + ")", PgKind::kBool};
      }
      case Node::Kind::kArithmetic:
        return Arithmetic(n);
      case Node::Kind::kIsNull: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        PgValue v = AsValue(std::move(ops[0]));
        if (v.kind == PgKind::kNull) return PgValue{n.negated ? "FALSE" : "TRUE", PgKind::kBool};
        return PgValue{"(" + v.sql + (n.negated ? " IS NOT NULL)" : " IS NULL)"), PgKind::kBool};
      }
      case Node::Kind::kIn: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        if (AsValue(ops[0]).kind == PgKind::kNull) return PgValue{"(NULL::boolean)", PgKind::kBool};
        std::string list;
        for (size_t i = 1; i < ops.size(); ++i) {
          PgValue value = ops[0];
          LG_RETURN_IF_ERROR(Comparable(value, ops[i]));
          if (value.kind != AsValue(ops[0]).kind) {
            return Refused("an IN list of real numbers for an integer");
          }
          if (i > 1) list += ", ";
          list += ops[i].kind == PgKind::kNull ? "NULL" : ops[i].sql;
        }
        PgValue value = AsValue(std::move(ops[0]));
        return PgValue{"(" + value.sql + (n.negated ? " NOT IN (" : " IN (") + list + "))",
                       PgKind::kBool};
      }
      case Node::Kind::kBetween: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        PgValue low_value = ops[0], high_value = ops[0];
        LG_RETURN_IF_ERROR(Comparable(low_value, ops[1]));
        LG_RETURN_IF_ERROR(Comparable(high_value, ops[2]));
        if (low_value.kind != high_value.kind && low_value.kind != PgKind::kNull &&
            high_value.kind != PgKind::kNull) {
          return Refused("BETWEEN bounds of different kinds");
        }
        PgValue& value = low_value.kind != PgKind::kNull ? low_value : high_value;
        if (value.kind == PgKind::kNull) return PgValue{"(NULL::boolean)", PgKind::kBool};
        auto bound = [](const PgValue& b) { return b.kind == PgKind::kNull ? "NULL" : b.sql; };
        return PgValue{"(" + value.sql + (n.negated ? " NOT BETWEEN " : " BETWEEN ") +
                           bound(ops[1]) + " AND " + bound(ops[2]) + ")",
                       PgKind::kBool};
      }
      case Node::Kind::kLike: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        LG_ASSIGN_OR_RETURN(std::string value, AsText(ops[0]));
        LG_ASSIGN_OR_RETURN(std::string pattern, AsText(ops[1]));
        return PgValue{"(" + Fold(value, true) + (n.negated ? " NOT LIKE " : " LIKE ") +
                           Fold(pattern, true) + " ESCAPE '')",
                       PgKind::kBool};
      }
      case Node::Kind::kFunction:
        return Function(n);
      case Node::Kind::kCase: {
        LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
        std::vector<PgValue> results;
        for (size_t i = 1; i < ops.size(); i += 2) results.push_back(ops[i]);
        if (n.has_else) results.push_back(ops.back());
        LG_ASSIGN_OR_RETURN(PgKind kind, CommonKind(results, "CASE"));
        std::string sql = "(CASE";
        size_t pairs = ops.size() / 2, at = 0;
        for (size_t i = 0; i < pairs; ++i) {
          LG_ASSIGN_OR_RETURN(std::string when, AsCondition(ops[2 * i]));
          sql += " WHEN " + when + " THEN " + Typed(results[at++], kind);
        }
        if (n.has_else) sql += " ELSE " + Typed(results[at], kind);
        return PgValue{sql + " END)", kind};
      }
    }
    return Refused("this expression");
  }

  // `v` (of `kind` or NULL) as SQL of that kind.
  static std::string Typed(const PgValue& v, PgKind kind) {
    if (v.kind != PgKind::kNull) return v.sql;
    switch (kind) {
      case PgKind::kInteger:
        return "(NULL::bigint)";
      case PgKind::kReal:
        return "(NULL::double precision)";
      case PgKind::kText:
        return "(NULL::text COLLATE \"C\")";
      case PgKind::kNull:
      case PgKind::kBool:
        break;
    }
    return "NULL";
  }

  // ASCII letters folded to lower (or upper) case, nothing else: SQLite's
  // lower(), upper() and LIKE without ICU.
  static std::string Fold(const std::string& text, bool to_lower) {
    return "translate(" + text + ", " + std::string(to_lower ? kUpperAscii : kLowerAscii) + ", " +
           std::string(to_lower ? kLowerAscii : kUpperAscii) + ")";
  }

  static Result<PgValue> Literal(const Value& v) {
    switch (v.type) {
      case Value::Type::kNull:
        return PgValue{"NULL", PgKind::kNull};
      case Value::Type::kInteger:
        return PgValue{"(" + LiteralSql(v) + ")::bigint", PgKind::kInteger};
      case Value::Type::kReal: {
        std::string sql = LiteralSql(v);
        if (sql.find_first_of("in") != std::string::npos)
          return Refused("an infinite real literal");
        return PgValue{"(" + sql + ")::double precision", PgKind::kReal};
      }
      case Value::Type::kText:
        return PgValue{"(" + LiteralSql(v) + "::text COLLATE \"C\")", PgKind::kText};
    }
    return PgValue{"NULL", PgKind::kNull};
  }

  Result<PgValue> Arithmetic(const Node& n) {
    LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
    if (n.op == "||") {
      LG_ASSIGN_OR_RETURN(std::string a, AsText(ops[0]));
      LG_ASSIGN_OR_RETURN(std::string b, AsText(ops[1]));
      return PgValue{"(" + a + " || " + b + ")", PgKind::kText};
    }
    PgValue a = AsValue(std::move(ops[0])), b = AsValue(std::move(ops[1]));
    if (a.kind == PgKind::kText || b.kind == PgKind::kText) {
      return Refused("arithmetic on text (SQLite reads the text as a number)");
    }
    if (a.kind == PgKind::kNull || b.kind == PgKind::kNull) return PgValue{"NULL", PgKind::kNull};
    PgKind kind =
        a.kind == PgKind::kReal || b.kind == PgKind::kReal ? PgKind::kReal : PgKind::kInteger;
    if (n.op == "%" && kind == PgKind::kReal) return Refused("% on a real number");
    // SQLite: division and remainder by zero are NULL.
    if (n.op == "/" || n.op == "%") {
      return PgValue{"(" + a.sql + " " + n.op + " NULLIF(" + b.sql + ", 0))", kind};
    }
    return PgValue{"(" + a.sql + " " + n.op + " " + b.sql + ")", kind};
  }

  Result<PgValue> Function(const Node& n) {
    LG_ASSIGN_OR_RETURN(std::vector<PgValue> ops, Operands(n));
    std::vector<std::string> text;
    auto texts = [&](size_t count) -> Status {
      for (size_t i = 0; i < count && i < ops.size(); ++i) {
        LG_ASSIGN_OR_RETURN(std::string t, AsText(ops[i]));
        text.push_back(std::move(t));
      }
      return Status::Ok();
    };
    const std::string& f = n.name;
    if (f == "lower" || f == "upper") {
      LG_RETURN_IF_ERROR(texts(1));
      return PgValue{Fold(text[0], f == "lower"), PgKind::kText};
    }
    if (f == "length") {
      LG_RETURN_IF_ERROR(texts(1));
      return PgValue{"(length(" + text[0] + ")::bigint)", PgKind::kInteger};
    }
    if (f == "substr") {
      LG_RETURN_IF_ERROR(texts(1));
      // Positions and lengths agree for literal Y >= 0 and Z >= 0 only
      // (SQLite counts a negative Y from the end, PostgreSQL refuses a
      // negative Z).
      std::string args = text[0];
      for (size_t i = 1; i < n.operands.size(); ++i) {
        const Node* o = n.operands[i].get();
        if (!IsIntegerLiteral(o, 2147483647) || o->literal.i < 0) {
          return Refused("substr with a computed or negative position or length");
        }
        args += ", " + std::to_string(o->literal.i);
      }
      return PgValue{"substr(" + args + ")", PgKind::kText};
    }
    if (f == "replace") {
      LG_RETURN_IF_ERROR(texts(3));
      return PgValue{"replace(" + text[0] + ", " + text[1] + ", " + text[2] + ")", PgKind::kText};
    }
    if (f == "trim" || f == "ltrim" || f == "rtrim") {
      LG_RETURN_IF_ERROR(texts(ops.size()));
      std::string name = f == "trim" ? "btrim" : f;
      return PgValue{name + "(" + text[0] + (text.size() > 1 ? ", " + text[1] : "") + ")",
                     PgKind::kText};
    }
    if (f == "instr") {
      LG_RETURN_IF_ERROR(texts(2));
      return PgValue{"(strpos(" + text[0] + ", " + text[1] + ")::bigint)", PgKind::kInteger};
    }
    if (f == "coalesce" || f == "ifnull") {
      LG_ASSIGN_OR_RETURN(PgKind kind, CommonKind(ops, f));
      if (kind == PgKind::kNull) return PgValue{"NULL", PgKind::kNull};
      std::string sql = "coalesce(";
      for (size_t i = 0; i < ops.size(); ++i) sql += (i > 0 ? ", " : "") + Typed(ops[i], kind);
      return PgValue{sql + ")", kind};
    }
    if (f == "nullif") {
      PgValue a = ops[0], b = ops[1];
      LG_RETURN_IF_ERROR(Comparable(a, b));
      if (a.kind != AsValue(ops[0]).kind) return Refused("nullif of an integer and a real number");
      if (a.kind == PgKind::kNull) return PgValue{"NULL", PgKind::kNull};
      return PgValue{"nullif(" + a.sql + ", " + Typed(b, a.kind) + ")", a.kind};
    }
    return Refused("function " + f);
  }

  const std::function<std::optional<MaskColumnSql>(std::string_view column)>& column_;
};

// ---- Trino: SQLite's value once cast to the column's type, or a refusal ----

// The kind of a Trino value: kBool a comparison's boolean, kNull an untyped
// NULL.
enum class TrinoKind { kNull, kInteger, kReal, kText, kBool };

Status TrinoRefused(std::string_view what) {
  return Status(
      StatusCode::kFailedPrecondition,
      std::string(kDialect.name) + ": " + std::string(what) + " has no exact Trino counterpart");
}

// The kind of `n`'s values on Trino; a refusal for a construct whose Trino
// value differs from SQLite's (substr positions and lengths AppendSql()
// cannot render exactly; values mixing text and numbers, which SQLite
// returns each as it is).
Result<TrinoKind> TrinoKindOf(
    const Node& n,
    const std::function<std::optional<MaskColumnSql>(std::string_view column)>& column) {
  std::vector<TrinoKind> ops;
  for (const NodePtr& o : n.operands) {
    LG_ASSIGN_OR_RETURN(TrinoKind k, TrinoKindOf(*o, column));
    ops.push_back(k);
  }
  // The one kind of values that may each be the result; an integer with a
  // real is a real (Trino's common type).
  auto common = [](const std::vector<TrinoKind>& kinds,
                   std::string_view what) -> Result<TrinoKind> {
    TrinoKind kind = TrinoKind::kNull;
    for (TrinoKind k : kinds) {
      if (k == TrinoKind::kBool) k = TrinoKind::kInteger;
      if (k == TrinoKind::kNull || k == kind) continue;
      if (kind == TrinoKind::kNull) {
        kind = k;
      } else if ((kind == TrinoKind::kInteger || kind == TrinoKind::kReal) &&
                 (k == TrinoKind::kInteger || k == TrinoKind::kReal)) {
        kind = TrinoKind::kReal;
      } else {
        return TrinoRefused(std::string(what) + " mixing text and numbers");
      }
    }
    return kind;
  };
  switch (n.kind) {
    case Node::Kind::kLiteral:
      switch (n.literal.type) {
        case Value::Type::kNull:
          return TrinoKind::kNull;
        case Value::Type::kInteger:
          return TrinoKind::kInteger;
        case Value::Type::kReal:
          return TrinoKind::kReal;
        case Value::Type::kText:
          return TrinoKind::kText;
      }
      return TrinoKind::kNull;
    case Node::Kind::kColumn: {
      std::optional<MaskColumnSql> c = column(n.name);
      if (!c) return TrinoRefused("column " + n.name + "'s type");
      return c->kind == MaskColumnSql::Kind::kInteger ? TrinoKind::kInteger
             : c->kind == MaskColumnSql::Kind::kReal  ? TrinoKind::kReal
                                                      : TrinoKind::kText;
    }
    case Node::Kind::kNegate:
      return ops[0] == TrinoKind::kBool ? TrinoKind::kInteger : ops[0];
    case Node::Kind::kNot:
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
    case Node::Kind::kCompare:
    case Node::Kind::kIsNull:
    case Node::Kind::kIn:
    case Node::Kind::kBetween:
    case Node::Kind::kLike:
      return TrinoKind::kBool;
    case Node::Kind::kArithmetic:
      if (n.op == "||") return TrinoKind::kText;
      return common(ops, "arithmetic");
    case Node::Kind::kFunction: {
      const std::string& f = n.name;
      if (f == "length" || f == "instr") return TrinoKind::kInteger;
      if (f == "substr") {
        if (!TrinoSubstrRenders(n)) {
          return TrinoRefused("substr with a computed position or a computed or negative length");
        }
        return TrinoKind::kText;
      }
      if (f == "coalesce" || f == "ifnull") return common(ops, f);
      if (f == "nullif") return common({ops[0]}, f);
      return TrinoKind::kText;  // lower, upper, replace, trim, ltrim, rtrim
    }
    case Node::Kind::kCase: {
      std::vector<TrinoKind> results;
      for (size_t i = 1; i < ops.size(); i += 2) results.push_back(ops[i]);
      if (n.has_else) results.push_back(ops.back());
      return common(results, "CASE");
    }
  }
  return TrinoRefused("this expression");
}

// Refuses an operand rendered more than once for Trino inside another such
// operand: every level would multiply the SQL's length (3^depth for nested
// substr with negative positions); so every node renders at most 3 times.
Status CheckTrinoRenderings(const Node& n, bool repeated) {
  for (size_t i = 0; i < n.operands.size(); ++i) {
    const bool again = TrinoRenderings(n, i) > 1;
    if (again && repeated) {
      return Status(StatusCode::kFailedPrecondition,
                    std::string(kDialect.name) +
                        ": on Trino, a substr with a negative position or a replace with a "
                        "computed pattern cannot take its string from another");
    }
    LG_RETURN_IF_ERROR(CheckTrinoRenderings(*n.operands[i], repeated || again));
  }
  return Status::Ok();
}

const char* TrinoKindName(TrinoKind k) {
  switch (k) {
    case TrinoKind::kInteger:
      return "an integer";
    case TrinoKind::kReal:
      return "a real number";
    case TrinoKind::kText:
      return "text";
    case TrinoKind::kBool:
      return "a comparison's value";
    case TrinoKind::kNull:
      break;
  }
  return "NULL";
}

void CollectColumns(const Node& n, std::vector<std::string>& out) {
  if (n.kind == Node::Kind::kColumn) {
    for (const auto& c : out) {
      if (EqualsIgnoreCase(c, n.name)) return;
    }
    out.push_back(n.name);
    return;
  }
  for (const NodePtr& o : n.operands) CollectColumns(*o, out);
}

}  // namespace

namespace {

Result<MaskExpression> ParseWith(std::string_view text, const internal::Dialect& dialect) {
  LG_RETURN_IF_ERROR(internal::CheckText(dialect, text));
  LG_ASSIGN_OR_RETURN(std::vector<Token> tokens, internal::Lex(dialect, text));
  Parser parser(dialect, std::move(tokens));
  LG_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  MaskExpression expression;
  expression.root = std::move(root);
  expression.text = std::string(text);
  return expression;
}

}  // namespace

Result<MaskExpression> ParseMaskExpression(std::string_view text) {
  return ParseWith(text, internal::kMaskExpressionDialect);
}

Result<MaskExpression> ParseStoredMaskExpression(std::string_view text) {
  return ParseWith(text, internal::kStoredMaskExpressionDialect);
}

std::vector<std::string> MaskExpression::Columns() const {
  std::vector<std::string> out;
  if (root) CollectColumns(*root, out);
  return out;
}

std::string MaskExpression::ToSql(
    const std::function<std::string(std::string_view column)>& column_sql,
    SqlDialect dialect) const {
  if (!root) return "NULL";  // not parsed: fail closed
  std::string out;
  AppendSql(*root, column_sql, dialect, out);
  return out;
}

Result<std::string> MaskExpression::ToTrinoSql(
    const std::function<std::optional<MaskColumnSql>(std::string_view column)>& column,
    std::optional<MaskColumnSql::Kind> target) const {
  if (!root) return std::string("NULL");  // not parsed: fail closed
  LG_ASSIGN_OR_RETURN(TrinoKind kind, TrinoKindOf(*root, column));
  LG_RETURN_IF_ERROR(CheckTrinoRenderings(*root, false));
  // Exact casts only: a value of the column's kind, NULL, or an integer (a
  // comparison's 1/0) on a real column or, as its decimal text, on a text
  // column. Trino prints reals differently from SQLite ("5.0E0"), rounds
  // them to integers and reads text as numbers.
  bool exact = kind == TrinoKind::kNull;
  if (target) {
    const bool integer = kind == TrinoKind::kInteger;
    switch (*target) {
      case MaskColumnSql::Kind::kInteger:
        exact = exact || integer || kind == TrinoKind::kBool;
        break;
      case MaskColumnSql::Kind::kReal:
        exact = exact || integer || kind == TrinoKind::kBool || kind == TrinoKind::kReal;
        break;
      case MaskColumnSql::Kind::kText:
        exact = exact || integer || kind == TrinoKind::kText;
        break;
    }
  }
  if (!exact) {
    const char* column_kind = !target                                    ? "another type"
                              : *target == MaskColumnSql::Kind::kInteger ? "an integer"
                              : *target == MaskColumnSql::Kind::kReal    ? "a real"
                                                                         : "a text";
    return TrinoRefused(std::string(TrinoKindName(kind)) + " as the value of " + column_kind +
                        " column");
  }
  return ToSql(
      [&](std::string_view name) {
        std::optional<MaskColumnSql> c = column(name);
        return c ? c->sql : std::string("NULL");
      },
      SqlDialect::kTrino);
}

Result<std::string> MaskExpression::ToPostgreSql(
    const std::function<std::optional<MaskColumnSql>(std::string_view column)>& column) const {
  if (!root) return std::string("(NULL::text)");  // not parsed: fail closed
  PgRenderer renderer(column);
  LG_ASSIGN_OR_RETURN(PgValue v, renderer.Render(*root));
  v = PgRenderer::AsValue(std::move(v));
  if (v.kind == PgKind::kNull) return std::string("(NULL::text)");
  return v.sql;
}

}  // namespace lakegate::policy
