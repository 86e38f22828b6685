//! The query language of DESIGN.md §6: one parser for the search box, tag
//! rules, saved segments, bulk actions and export.
//!
//! Parsing is two steps: a lexer turns the text into operators, parentheses
//! and fully parsed terms (a term's syntax is lexical: `city:"a b"`,
//! `spend>=3`, `!^x$`), then a small recursive-descent parser applies
//! precedence (NOT binds tightest, then AND, implicit or written, then OR).
//! Quotes only group characters, they never change a term's meaning: `"a b"`
//! is a fuzzy term, `'"a b"` a substring, `^"a b"$` an exact segment.
//!
//! Values are kept as typed, so `Display` shows the user's spelling; a
//! case-folded copy is computed once at parse time for the evaluator. Keys,
//! keywords and figure names are canonicalised, which makes `Display` the
//! canonical text that parses back to an equal `Query`.

use std::fmt::{self, Write as _};

use chrono::NaiveDate;

use crate::model::Field;

/// A query that failed to parse, pointing at the offending column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong, and where possible what was expected.
    pub message: String,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Matches every customer: the empty query.
    All,
    /// Every part matches (implicit between terms, or `AND`).
    And(Vec<Query>),
    /// Some part matches (`OR`, or a standalone `|`).
    Or(Vec<Query>),
    /// The inner query does not match (`NOT` or a `-` prefix).
    Not(Box<Query>),
    /// Free text matched against the customer's haystack.
    Text(TextTerm),
    /// `field:value` on a canonical field, the tags or a custom attribute.
    Field(FieldTerm),
    /// A comparison on a derived figure or a date: `spend>1000`, `last_order<90d`.
    Compare {
        figure: Figure,
        op: CmpOp,
        value: CmpValue,
    },
    /// `has:FIELD`: the field, list or attribute is not empty.
    Has(Presence),
    /// `missing:FIELD`: the opposite of `has:`.
    Missing(Presence),
    /// `rfm:NAME`, `lifecycle:NAME`, `value:NAME`; `name` is canonical
    /// (lower case, underscores).
    Segment { kind: SegmentKind, name: String },
    /// `segment:NAME`: a saved segment's query, looked up at evaluation.
    Saved(String),
    /// `invalid:FIELD`, `invalid:order_date`, `invalid:any`: the customer
    /// has an invalid value (see `ingest::validity` for the rules).
    Invalid(Validity),
    /// `stale:365d`: the record was last updated longer ago than this,
    /// counted back from the as-of date.
    Stale { amount: u32, unit: AgeUnit },
}

/// How one free-text alternative matches a haystack segment (fzf's
/// extended-search forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// `abc`: the characters in order, within one segment.
    Fuzzy,
    /// `'abc`: a substring.
    Substring,
    /// `^abc`: a segment starts with it.
    Prefix,
    /// `abc$`: a segment ends with it.
    Suffix,
    /// `^abc$`: a segment equals it.
    Exact,
}

/// One alternative of a free-text term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextAtom {
    pub kind: MatchKind,
    /// `!abc`: the haystack must not match (never `Fuzzy`, as in fzf).
    pub negated: bool,
    /// The text as typed, without markers or quotes.
    pub text: String,
    folded: String,
}

impl TextAtom {
    /// An atom; a negated fuzzy atom becomes a negated substring, as in fzf.
    pub fn new(kind: MatchKind, negated: bool, text: impl Into<String>) -> Self {
        let text = text.into();
        let kind = if negated && kind == MatchKind::Fuzzy {
            MatchKind::Substring
        } else {
            kind
        };
        let folded = text.to_lowercase();
        TextAtom {
            kind,
            negated,
            text,
            folded,
        }
    }

    /// The lower-cased text the evaluator compares with the haystack.
    pub fn folded(&self) -> &str {
        &self.folded
    }
}

/// A free-text term: one or more alternatives (`a|^b|c$`), any of which may match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextTerm {
    pub alternatives: Vec<TextAtom>,
}

impl TextTerm {
    /// A term of a single alternative.
    pub fn single(atom: TextAtom) -> Self {
        TextTerm {
            alternatives: vec![atom],
        }
    }

    /// Whether no alternative is negated: the term asks for text to be present
    /// (so it can rank results and narrow an index).
    pub fn is_positive(&self) -> bool {
        !self.alternatives.is_empty() && self.alternatives.iter().all(|a| !a.negated)
    }
}

/// What a `field:value` term looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldKey {
    /// `tag:NAME` (exact, case-insensitive); `tag:NAME/*` also matches children.
    Tag,
    /// A canonical field (DESIGN.md §3).
    Canonical(Field),
    /// A custom attribute, as typed; matched ignoring case, with ' ', '-' and
    /// '_' treated alike.
    Attr(String),
}

impl FieldKey {
    /// The key as written in a query.
    pub fn as_str(&self) -> &str {
        match self {
            FieldKey::Tag => "tag",
            FieldKey::Canonical(f) => f.as_str(),
            FieldKey::Attr(k) => k,
        }
    }
}

/// A `field:value` term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldTerm {
    pub key: FieldKey,
    /// The value as typed.
    pub value: String,
    folded: String,
}

impl FieldTerm {
    /// A term; the folded value is lower case, or digits only for `phone`.
    pub fn new(key: FieldKey, value: impl Into<String>) -> Self {
        let value = value.into();
        let folded = match key {
            FieldKey::Canonical(Field::Phone) => {
                value.chars().filter(char::is_ascii_digit).collect()
            }
            _ => value.to_lowercase(),
        };
        FieldTerm { key, value, folded }
    }

    /// The value the evaluator compares: lower case, or digits for phones.
    pub fn folded(&self) -> &str {
        &self.folded
    }
}

/// A figure that comparisons (`spend>1000`) apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    /// Total spend in major units.
    Spend,
    /// Number of orders.
    Orders,
    /// Number of distinct days with an order (the RFM frequency).
    OrderDays,
    /// Date of the last order.
    LastOrder,
    /// Date of the first order.
    FirstOrder,
    /// The customer's `created_at` date.
    Created,
    /// The customer's birth date.
    Birth,
    /// Probability the customer is still active (the fitted CLV model).
    PAlive,
    /// Predicted customer value over the prediction horizon.
    Clv,
    /// Predicted purchases over the prediction horizon.
    ExpectedPurchases,
}

impl Figure {
    pub const ALL: [Figure; 10] = [
        Figure::Spend,
        Figure::Orders,
        Figure::OrderDays,
        Figure::LastOrder,
        Figure::FirstOrder,
        Figure::Created,
        Figure::Birth,
        Figure::PAlive,
        Figure::Clv,
        Figure::ExpectedPurchases,
    ];

    /// The name written in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Figure::Spend => "spend",
            Figure::Orders => "orders",
            Figure::OrderDays => "order_days",
            Figure::LastOrder => "last_order",
            Figure::FirstOrder => "first_order",
            Figure::Created => "created",
            Figure::Birth => "birth",
            Figure::PAlive => "p_alive",
            Figure::Clv => "clv",
            Figure::ExpectedPurchases => "expected_purchases",
        }
    }

    /// The figure of a (case-insensitive) name or alias.
    pub fn from_name(name: &str) -> Option<Figure> {
        let name = name.to_ascii_lowercase();
        Figure::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .or(match name.as_str() {
                "created_at" => Some(Figure::Created),
                "birth_date" | "birthday" => Some(Figure::Birth),
                _ => None,
            })
    }

    /// Whether the figure comes from the fitted customer-value model.
    pub fn is_predicted(self) -> bool {
        matches!(
            self,
            Figure::PAlive | Figure::Clv | Figure::ExpectedPurchases
        )
    }

    /// Whether the figure is a date (compared with dates or ages).
    pub fn is_date(self) -> bool {
        matches!(
            self,
            Figure::LastOrder | Figure::FirstOrder | Figure::Created | Figure::Birth
        )
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
        }
    }

    /// Whether `left OP right` holds, given `left.cmp(right)`.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
        }
    }
}

/// The unit of an age such as `90d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgeUnit {
    Day,
    Week,
    /// 30 days.
    Month,
    /// 365 days.
    Year,
}

impl AgeUnit {
    /// Days in one unit.
    pub fn days(self) -> i64 {
        match self {
            AgeUnit::Day => 1,
            AgeUnit::Week => 7,
            AgeUnit::Month => 30,
            AgeUnit::Year => 365,
        }
    }

    pub fn as_char(self) -> char {
        match self {
            AgeUnit::Day => 'd',
            AgeUnit::Week => 'w',
            AgeUnit::Month => 'm',
            AgeUnit::Year => 'y',
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpValue {
    /// An amount in major units (`spend>50.5`).
    Amount(f64),
    /// A count (`orders>=3`).
    Count(u32),
    /// A calendar date (`created>=2024-01-01`).
    Date(NaiveDate),
    /// An age relative to the as-of date: `last_order<90d` means the last
    /// order was less than 90 days before as-of.
    Age { amount: u32, unit: AgeUnit },
}

impl fmt::Display for CmpValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmpValue::Amount(x) => write!(f, "{x}"),
            CmpValue::Count(n) => write!(f, "{n}"),
            CmpValue::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            CmpValue::Age { amount, unit } => write!(f, "{amount}{}", unit.as_char()),
        }
    }
}

/// What `has:` and `missing:` test.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Presence {
    Field(Field),
    /// At least one tag.
    Tags,
    /// At least one order.
    Orders,
    /// A custom attribute with a non-blank value (key as typed).
    Attr(String),
}

impl Presence {
    fn parse(name: &str) -> Presence {
        let key = canonical_key(name);
        match key.as_str() {
            "tag" | "tags" => Presence::Tags,
            "order" | "orders" => Presence::Orders,
            "birth" | "birthday" => Presence::Field(Field::BirthDate),
            "created" => Presence::Field(Field::CreatedAt),
            "emails" => Presence::Field(Field::Email),
            "phones" => Presence::Field(Field::Phone),
            k => k
                .parse::<Field>()
                .map_or_else(|()| Presence::Attr(name.to_owned()), Presence::Field),
        }
    }

    /// The name as written after `has:`.
    pub fn as_str(&self) -> &str {
        match self {
            Presence::Field(f) => f.as_str(),
            Presence::Tags => "tags",
            Presence::Orders => "orders",
            Presence::Attr(k) => k,
        }
    }
}

/// What `invalid:` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Validity {
    /// The field has a value the importer recorded as invalid, or a stored
    /// value that fails its rule today.
    Field(Field),
    /// The first order is dated before the customer signed up (`created_at`).
    OrderDate,
    /// Any field is invalid, or an order predates the signup.
    Any,
}

impl Validity {
    /// The name written after `invalid:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Validity::Field(f) => f.as_str(),
            Validity::OrderDate => "order_date",
            Validity::Any => "any",
        }
    }

    /// The validity of a (loosely written) name, as [`Presence`] reads field names.
    pub fn from_name(name: &str) -> Option<Validity> {
        let key = canonical_key(name);
        Some(match key.as_str() {
            "any" => Validity::Any,
            "order_date" | "order_dates" | "orders" => Validity::OrderDate,
            "birth" | "birthday" => Validity::Field(Field::BirthDate),
            "created" => Validity::Field(Field::CreatedAt),
            "emails" => Validity::Field(Field::Email),
            "phones" => Validity::Field(Field::Phone),
            k => Validity::Field(k.parse::<Field>().ok()?),
        })
    }
}

/// A family of computed segment labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// RFM segment (`rfm:champions`).
    Rfm,
    /// Lifecycle stage (`lifecycle:at_risk`).
    Lifecycle,
    /// Value tier (`value:high`).
    Value,
}

impl SegmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentKind::Rfm => "rfm",
            SegmentKind::Lifecycle => "lifecycle",
            SegmentKind::Value => "value",
        }
    }

    /// The canonical names of this family's labels (DESIGN.md §5).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            SegmentKind::Rfm => &[
                "champions",
                "loyal_customers",
                "potential_loyalists",
                "new_customers",
                "promising",
                "need_attention",
                "about_to_sleep",
                "at_risk",
                "cant_lose_them",
                "hibernating",
            ],
            SegmentKind::Lifecycle => &["prospect", "new", "active", "at_risk", "churned"],
            SegmentKind::Value => &["high", "mid", "low", "none"],
        }
    }
}

/// The canonical form of a segment label: lower case, words joined by '_',
/// apostrophes dropped ("Can't Lose Them" -> "cant_lose_them").
pub fn canonical_label(label: &str) -> String {
    label
        .trim()
        .chars()
        .filter(|c| *c != '\'' && *c != '\u{2019}')
        .map(|c| {
            if c.is_whitespace() || c == '-' {
                '_'
            } else {
                c
            }
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// A key compared loosely: lower case, ' ' and '-' read as '_'.
fn canonical_key(key: &str) -> String {
    key_chars(key).collect()
}

/// The characters of [`canonical_key`], for comparing without allocating
/// (duplicate detection folds attribute names the same way).
pub(crate) fn key_chars(key: &str) -> impl Iterator<Item = char> + '_ {
    key.trim()
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '-' {
                '_'
            } else {
                c
            }
        })
        .flat_map(char::to_lowercase)
}

impl Query {
    /// Whether the query matches everything.
    pub fn is_all(&self) -> bool {
        match self {
            Query::All => true,
            Query::And(parts) => parts.iter().all(Query::is_all),
            _ => false,
        }
    }

    /// The conjunction of `parts`, flattened: nested ANDs are spliced in,
    /// `All` parts dropped, a single part returned as is.
    pub fn and(parts: Vec<Query>) -> Query {
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Query::And(inner) => out.extend(inner),
                Query::All => {}
                q => out.push(q),
            }
        }
        match out.len() {
            0 => Query::All,
            1 => out.pop().unwrap_or(Query::All),
            _ => Query::And(out),
        }
    }

    /// The disjunction of `parts`, flattened like [`Query::and`]; an `All`
    /// part makes the whole `All`.
    pub fn or(parts: Vec<Query>) -> Query {
        let mut out = Vec::with_capacity(parts.len());
        for part in parts {
            match part {
                Query::Or(inner) => out.extend(inner),
                Query::All => return Query::All,
                q => out.push(q),
            }
        }
        match out.len() {
            0 => Query::All,
            1 => out.pop().unwrap_or(Query::All),
            _ => Query::Or(out),
        }
    }

    /// The positive free-text terms that every match must satisfy (reached
    /// through ANDs only, no negated alternative): what ranking scores and
    /// what an index can narrow by.
    pub fn text_terms(&self) -> Vec<&TextTerm> {
        fn walk<'a>(q: &'a Query, out: &mut Vec<&'a TextTerm>) {
            match q {
                Query::Text(t) if t.is_positive() => out.push(t),
                Query::And(parts) => parts.iter().for_each(|p| walk(p, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
}

/// Parses a query. An empty or blank query is [`Query::All`].
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let tokens = Lexer::new(input).run()?;
    if tokens.is_empty() {
        return Ok(Query::All);
    }
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let q = p.or_expr(None)?;
    match p.tokens.get(p.at) {
        None => Ok(q),
        Some(t) => Err(err(t.col, "unmatched ')'")),
    }
}

fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        column,
        message: message.into(),
    }
}

#[derive(Debug)]
enum Tok {
    LParen,
    RParen,
    Or,
    And,
    Not,
    Minus,
    Term(Query),
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    col: usize,
}

/// Splits the text into tokens; terms come out fully parsed.
struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

fn is_boundary(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')'
}

fn is_key_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

impl Lexer {
    fn new(input: &str) -> Self {
        Lexer {
            chars: input.chars().collect(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<char> {
        self.chars.get(at).copied()
    }

    fn at_boundary(&self) -> bool {
        self.peek().is_none_or(is_boundary)
    }

    fn run(mut self) -> Result<Vec<Token>, ParseError> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += 1;
                continue;
            }
            let col = self.pos + 1;
            let tok = match c {
                '(' => {
                    self.pos += 1;
                    Tok::LParen
                }
                ')' => {
                    self.pos += 1;
                    Tok::RParen
                }
                '-' => {
                    self.pos += 1;
                    if self.peek().is_none_or(|c| c.is_whitespace() || c == ')') {
                        return Err(err(col, "expected a term right after '-'"));
                    }
                    Tok::Minus
                }
                _ => {
                    let end = (self.pos..self.chars.len())
                        .find(|&i| is_boundary(self.chars[i]))
                        .unwrap_or(self.chars.len());
                    let word: String = self.chars[self.pos..end].iter().collect();
                    let keyword = match word.as_str() {
                        "OR" | "|" => Some(Tok::Or),
                        "AND" => Some(Tok::And),
                        "NOT" => Some(Tok::Not),
                        _ => None,
                    };
                    match keyword {
                        Some(k) => {
                            self.pos = end;
                            k
                        }
                        None => Tok::Term(self.term()?),
                    }
                }
            };
            out.push(Token { tok, col });
        }
        Ok(out)
    }

    /// A term starting at the cursor: `key:value`, `figure OP value` or text.
    fn term(&mut self) -> Result<Query, ParseError> {
        let start = self.pos;
        if self.peek().is_some_and(is_key_start) {
            let mut end = start + 1;
            while self.peek_at(end).is_some_and(is_key_char) {
                end += 1;
            }
            let key: String = self.chars[start..end].iter().collect();
            match (self.peek_at(end), self.peek_at(end + 1)) {
                (Some(':'), _) => {
                    self.pos = end + 1;
                    return self.field_term(start, &key);
                }
                (Some('<' | '>' | '='), _) | (Some('!'), Some('=')) => {
                    self.pos = end;
                    return self.compare_term(start, &key);
                }
                _ => {}
            }
        }
        self.text_term()
    }

    /// A double-quoted string at the cursor; `\"` and `\\` are escapes.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut s = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '"' => return Ok(s),
                '\\' if matches!(self.peek(), Some('"' | '\\')) => {
                    s.extend(self.peek());
                    self.pos += 1;
                }
                c => s.push(c),
            }
        }
        Err(err(open + 1, "unclosed quote"))
    }

    fn after_quote(&self) -> Result<(), ParseError> {
        if self.at_boundary() {
            Ok(())
        } else {
            Err(err(
                self.pos + 1,
                "expected a space after the closing quote",
            ))
        }
    }

    /// A field value (quoted, or up to the next space or parenthesis).
    fn value(&mut self, start: usize, after: &str) -> Result<(String, usize), ParseError> {
        let col = self.pos + 1;
        let missing = || err(start + 1, format!("expected a value after '{after}'"));
        if self.at_boundary() {
            return Err(missing());
        }
        let value = if self.peek() == Some('"') {
            let v = self.quoted()?;
            self.after_quote()?;
            v
        } else {
            let mut v = String::new();
            while let Some(c) = self.peek().filter(|c| !is_boundary(*c)) {
                if c == '"' {
                    return Err(err(
                        self.pos + 1,
                        "unexpected '\"' inside a value; quote the whole value",
                    ));
                }
                v.push(c);
                self.pos += 1;
            }
            v
        };
        if value.is_empty() {
            return Err(missing());
        }
        Ok((value, col))
    }

    fn field_term(&mut self, start: usize, key: &str) -> Result<Query, ParseError> {
        let after = format!("{key}:");
        let canonical = canonical_key(key);
        match canonical.as_str() {
            "has" | "missing" => {
                let missing_value =
                    || err(start + 1, format!("expected a field name after '{after}'"));
                if self.at_boundary() {
                    return Err(missing_value());
                }
                let (value, _) = self.value(start, &after)?;
                if value.trim().is_empty() {
                    return Err(missing_value());
                }
                let p = Presence::parse(&value);
                Ok(if canonical == "has" {
                    Query::Has(p)
                } else {
                    Query::Missing(p)
                })
            }
            "rfm" | "lifecycle" | "value" => {
                let kind = match canonical.as_str() {
                    "rfm" => SegmentKind::Rfm,
                    "lifecycle" => SegmentKind::Lifecycle,
                    _ => SegmentKind::Value,
                };
                let (value, col) = self.value(start, &after)?;
                let name = canonical_label(&value);
                if !kind.names().contains(&name.as_str()) {
                    let what = match kind {
                        SegmentKind::Rfm => "RFM segment",
                        SegmentKind::Lifecycle => "lifecycle stage",
                        SegmentKind::Value => "value tier",
                    };
                    return Err(err(
                        col,
                        format!(
                            "unknown {what} '{value}'; expected one of {}",
                            kind.names().join(", ")
                        ),
                    ));
                }
                Ok(Query::Segment { kind, name })
            }
            "segment" => Ok(Query::Saved(self.value(start, &after)?.0)),
            "invalid" => {
                let (value, col) = self.value(start, &after)?;
                Validity::from_name(&value)
                    .map(Query::Invalid)
                    .ok_or_else(|| {
                        err(
                            col,
                            format!(
                                "unknown field '{value}' after 'invalid:'; expected a field name \
                             (email, phone, birth_date, created_at, ...), order_date or any"
                            ),
                        )
                    })
            }
            "stale" => {
                let (value, col) = self.value(start, &after)?;
                let (amount, unit) = parse_age(&value).map_err(|_| {
                    err(
                        col,
                        format!(
                            "bad age '{value}' after 'stale:'; expected a number of days, \
                             weeks, months or years like 365d, 52w, 12m, 1y"
                        ),
                    )
                })?;
                Ok(Query::Stale { amount, unit })
            }
            "tag" | "tags" => Ok(Query::Field(FieldTerm::new(
                FieldKey::Tag,
                self.value(start, &after)?.0,
            ))),
            c => {
                let key = match c.parse::<Field>() {
                    Ok(f) => FieldKey::Canonical(f),
                    Err(()) => FieldKey::Attr(key.to_owned()),
                };
                let (value, col) = self.value(start, &after)?;
                let term = FieldTerm::new(key, value);
                if term.key == FieldKey::Canonical(Field::Phone) && term.folded().is_empty() {
                    return Err(err(col, format!("expected digits after '{after}'")));
                }
                Ok(Query::Field(term))
            }
        }
    }

    fn compare_term(&mut self, start: usize, name: &str) -> Result<Query, ParseError> {
        let Some(figure) = Figure::from_name(name) else {
            let names: Vec<&str> = Figure::ALL.iter().map(|f| f.as_str()).collect();
            return Err(err(
                start + 1,
                format!(
                    "unknown figure '{name}'; expected one of {}",
                    names.join(", ")
                ),
            ));
        };
        let two: String = self.chars[self.pos..].iter().take(2).collect();
        let op = match two.as_str() {
            ">=" => CmpOp::Ge,
            "<=" => CmpOp::Le,
            "!=" => CmpOp::Ne,
            _ => match self.peek() {
                Some('>') => CmpOp::Gt,
                Some('<') => CmpOp::Lt,
                _ => CmpOp::Eq,
            },
        };
        self.pos += op.as_str().len();
        let col = self.pos + 1;
        let mut raw = String::new();
        while let Some(c) = self.peek().filter(|c| !is_boundary(*c)) {
            raw.push(c);
            self.pos += 1;
        }
        if raw.is_empty() {
            return Err(err(
                start + 1,
                format!("expected a value after '{name}{}'", op.as_str()),
            ));
        }
        let value = match figure {
            Figure::Spend | Figure::PAlive | Figure::Clv | Figure::ExpectedPurchases => {
                parse_amount(&raw).ok_or_else(|| {
                    err(
                        col,
                        format!(
                            "bad amount '{raw}' for {figure}; expected a number like 1000 or 50.5"
                        ),
                    )
                })?
            }
            Figure::Orders | Figure::OrderDays => {
                CmpValue::Count(raw.parse::<u32>().map_err(|_| {
                    err(
                        col,
                        format!("bad count '{raw}' for {figure}; expected a whole number like 3"),
                    )
                })?)
            }
            _ => parse_when(&raw).map_err(|m| err(col, m))?,
        };
        Ok(Query::Compare { figure, op, value })
    }

    /// Free text: alternatives separated by '|', each with fzf's markers.
    fn text_term(&mut self) -> Result<Query, ParseError> {
        let mut alternatives = Vec::new();
        loop {
            let atom_start = self.pos;
            let negated = self.eat('!');
            let marker = if self.eat('^') {
                Some(MatchKind::Prefix)
            } else if self.eat('\'') {
                Some(MatchKind::Substring)
            } else {
                None
            };
            let atom = if self.peek() == Some('"') {
                let quote_col = self.pos + 1;
                let body = self.quoted()?;
                if body.is_empty() {
                    return Err(err(quote_col, "empty quotes"));
                }
                let suffix = self.eat('$');
                TextAtom::new(kind_of(negated, marker, suffix), negated, body)
            } else {
                let mut body = String::new();
                while let Some(c) = self.peek().filter(|c| !is_boundary(*c) && *c != '|') {
                    if c == '"' {
                        return Err(err(
                            self.pos + 1,
                            "unexpected '\"' inside a word; quote the whole term",
                        ));
                    }
                    body.push(c);
                    self.pos += 1;
                }
                let suffix = body.len() > 1 && body.ends_with('$');
                if suffix {
                    body.pop();
                }
                if self.pos == atom_start {
                    return Err(err(atom_start + 1, "expected a term before '|'"));
                }
                if body.is_empty() || body == "$" {
                    // Markers alone ("^", "!", "$") are literal text.
                    let literal: String = self.chars[atom_start..self.pos].iter().collect();
                    TextAtom::new(MatchKind::Fuzzy, false, literal)
                } else {
                    TextAtom::new(kind_of(negated, marker, suffix), negated, body)
                }
            };
            alternatives.push(atom);
            if self.peek() == Some('|') {
                self.pos += 1;
                if self.at_boundary() {
                    return Err(err(self.pos, "expected a term after '|'"));
                }
                continue;
            }
            break;
        }
        self.after_quote()?;
        Ok(Query::Text(TextTerm { alternatives }))
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

fn kind_of(negated: bool, marker: Option<MatchKind>, suffix: bool) -> MatchKind {
    match (marker, suffix) {
        (Some(MatchKind::Prefix), true) => MatchKind::Exact,
        (Some(MatchKind::Prefix), false) => MatchKind::Prefix,
        (_, true) => MatchKind::Suffix,
        (Some(_), false) => MatchKind::Substring,
        (None, false) if negated => MatchKind::Substring,
        (None, false) => MatchKind::Fuzzy,
    }
}

fn parse_amount(raw: &str) -> Option<CmpValue> {
    let looks_numeric = raw
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    raw.parse::<f64>()
        .ok()
        .filter(|x| looks_numeric && x.is_finite())
        .map(CmpValue::Amount)
}

/// A date (YYYY-MM-DD) or an age (`90d`, `12w`, `6m`, `2y`).
fn parse_when(raw: &str) -> Result<CmpValue, String> {
    let b = raw.as_bytes();
    let date_shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if date_shaped {
        return NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(CmpValue::Date)
            .map_err(|_| format!("bad date '{raw}'; expected a real date as YYYY-MM-DD"));
    }
    let (amount, unit) = parse_age(raw).map_err(|()| {
        format!(
            "bad date or duration '{raw}'; expected YYYY-MM-DD or a number of days, weeks, months or years like 90d, 12w, 6m, 2y"
        )
    })?;
    Ok(CmpValue::Age { amount, unit })
}

/// An age: a whole number and a unit letter (`90d`, `12w`, `6m`, `2y`).
fn parse_age(raw: &str) -> Result<(u32, AgeUnit), ()> {
    let unit = match raw.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('d') => AgeUnit::Day,
        Some('w') => AgeUnit::Week,
        Some('m') => AgeUnit::Month,
        Some('y') => AgeUnit::Year,
        _ => return Err(()),
    };
    let digits = &raw[..raw.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(());
    }
    let amount = digits.parse::<u32>().map_err(|_| ())?;
    Ok((amount, unit))
}

/// Precedence parser over the tokens.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Open parentheses and negations around the cursor.
    depth: usize,
}

/// How deeply parentheses and negations may nest. Parsing, evaluating,
/// showing and dropping a query recurse once per level, so without a
/// bound a query of 20,000 '(' overflowed the stack (found by fuzzing).
pub const MAX_NESTING: usize = 64;

/// The operator a term must follow, for "expected a term after OR".
type After = Option<(&'static str, usize)>;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|t| &t.tok)
    }

    fn col(&self) -> usize {
        self.tokens.get(self.at).map_or(0, |t| t.col)
    }

    fn or_expr(&mut self, after: After) -> Result<Query, ParseError> {
        let mut parts = vec![self.and_expr(after)?];
        while let Some(Tok::Or) = self.peek() {
            let col = self.col();
            self.at += 1;
            parts.push(self.and_expr(Some(("OR", col)))?);
        }
        Ok(Query::or(parts))
    }

    fn and_expr(&mut self, after: After) -> Result<Query, ParseError> {
        let mut parts = vec![self.unary(after)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    let col = self.col();
                    self.at += 1;
                    parts.push(self.unary(Some(("AND", col)))?);
                }
                Some(Tok::Term(_) | Tok::LParen | Tok::Not | Tok::Minus) => {
                    parts.push(self.unary(None)?);
                }
                _ => break,
            }
        }
        Ok(Query::and(parts))
    }

    fn unary(&mut self, after: After) -> Result<Query, ParseError> {
        if matches!(self.peek(), Some(Tok::Not | Tok::Minus | Tok::LParen)) {
            if self.depth >= MAX_NESTING {
                return Err(err(
                    self.col(),
                    format!(
                        "more than {MAX_NESTING} nested parentheses and negations; simplify the query"
                    ),
                ));
            }
            self.depth += 1;
            let q = self.nested(after);
            self.depth -= 1;
            return q;
        }
        self.nested(after)
    }

    fn nested(&mut self, after: After) -> Result<Query, ParseError> {
        let col = self.col();
        match self.peek() {
            Some(Tok::Not) => {
                self.at += 1;
                Ok(Query::Not(Box::new(self.unary(Some(("NOT", col)))?)))
            }
            Some(Tok::Minus) => {
                self.at += 1;
                Ok(Query::Not(Box::new(self.unary(Some(("'-'", col)))?)))
            }
            Some(Tok::LParen) => {
                self.at += 1;
                if let Some(Tok::RParen) = self.peek() {
                    return Err(err(col, "empty parentheses"));
                }
                if self.peek().is_none() {
                    return Err(err(col, "unclosed '('"));
                }
                let q = self.or_expr(None)?;
                match self.peek() {
                    Some(Tok::RParen) => {
                        self.at += 1;
                        Ok(q)
                    }
                    _ => Err(err(col, "unclosed '('")),
                }
            }
            Some(Tok::Term(_)) => {
                let tok = std::mem::replace(&mut self.tokens[self.at].tok, Tok::RParen);
                self.at += 1;
                match tok {
                    Tok::Term(q) => Ok(q),
                    _ => Err(err(col, "expected a term")),
                }
            }
            other => Err(match (after, other) {
                (Some((what, at)), _) => err(at, format!("expected a term after {what}")),
                (None, Some(Tok::RParen)) => err(col, "unmatched ')'"),
                (None, Some(Tok::Or)) => err(col, "OR needs a term before it"),
                (None, Some(Tok::And)) => err(col, "AND needs a term before it"),
                (None, _) => err(col.max(1), "expected a term"),
            }),
        }
    }
}

// ---- Display: the canonical text ----

/// Whether a free-text body can be written without quotes.
fn bare_text(s: &str, plain: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let special = |c: char| is_boundary(c) || matches!(c, '"' | '|');
    let field_like = |c: char| matches!(c, ':' | '<' | '>' | '=');
    let unsafe_text = s.chars().any(special)
        || matches!(first, '!' | '^' | '\'' | '-')
        || s.ends_with('$')
        || matches!(s, "OR" | "AND" | "NOT")
        || (plain && s.chars().any(field_like));
    !unsafe_text
}

/// Whether a field value can be written without quotes.
fn bare_value(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| is_boundary(c) || c == '"')
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn write_value(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if bare_value(s) {
        f.write_str(s)
    } else {
        write_quoted(f, s)
    }
}

impl fmt::Display for TextAtom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('!')?;
        }
        match self.kind {
            MatchKind::Prefix | MatchKind::Exact => f.write_char('^')?,
            MatchKind::Substring if !self.negated => f.write_char('\'')?,
            _ => {}
        }
        // Without a leading marker the body starts the token, where it could
        // read as `key:value` or a comparison.
        let plain = !self.negated && matches!(self.kind, MatchKind::Fuzzy | MatchKind::Suffix);
        if bare_text(&self.text, plain) {
            f.write_str(&self.text)?;
        } else {
            write_quoted(f, &self.text)?;
        }
        if matches!(self.kind, MatchKind::Suffix | MatchKind::Exact) {
            f.write_char('$')?;
        }
        Ok(())
    }
}

impl fmt::Display for TextTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_char('|')?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn grouped(f: &mut fmt::Formatter<'_>, q: &Query, group: bool) -> fmt::Result {
            if group {
                write!(f, "({q})")
            } else {
                write!(f, "{q}")
            }
        }
        match self {
            Query::All => Ok(()),
            Query::And(parts) => {
                for (i, q) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    grouped(f, q, matches!(q, Query::Or(_) | Query::And(_)))?;
                }
                Ok(())
            }
            Query::Or(parts) => {
                for (i, q) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    grouped(f, q, matches!(q, Query::Or(_)))?;
                }
                Ok(())
            }
            Query::Not(q) => {
                f.write_char('-')?;
                grouped(f, q, matches!(**q, Query::Or(_) | Query::And(_)))
            }
            Query::Text(t) => write!(f, "{t}"),
            Query::Field(t) => {
                write!(f, "{}:", t.key.as_str())?;
                write_value(f, &t.value)
            }
            Query::Compare { figure, op, value } => {
                write!(f, "{figure}{}{value}", op.as_str())
            }
            Query::Has(p) => {
                f.write_str("has:")?;
                write_value(f, p.as_str())
            }
            Query::Missing(p) => {
                f.write_str("missing:")?;
                write_value(f, p.as_str())
            }
            Query::Segment { kind, name } => write!(f, "{}:{name}", kind.as_str()),
            Query::Saved(name) => {
                f.write_str("segment:")?;
                write_value(f, name)
            }
            Query::Invalid(v) => write!(f, "invalid:{}", v.as_str()),
            Query::Stale { amount, unit } => write!(f, "stale:{amount}{}", unit.as_char()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(kind: MatchKind, negated: bool, s: &str) -> Query {
        Query::Text(TextTerm::single(TextAtom::new(kind, negated, s)))
    }

    fn fuzzy(s: &str) -> Query {
        text(MatchKind::Fuzzy, false, s)
    }

    fn field(key: FieldKey, v: &str) -> Query {
        Query::Field(FieldTerm::new(key, v))
    }

    fn canon(f: Field, v: &str) -> Query {
        field(FieldKey::Canonical(f), v)
    }

    fn cmp(figure: Figure, op: CmpOp, value: CmpValue) -> Query {
        Query::Compare { figure, op, value }
    }

    fn date(y: i32, m: u32, d: u32) -> CmpValue {
        CmpValue::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn not(q: Query) -> Query {
        Query::Not(Box::new(q))
    }

    #[test]
    fn parses_every_form() {
        use MatchKind::*;
        let cases: Vec<(&str, Query)> = vec![
            ("", Query::All),
            ("   ", Query::All),
            ("zhang", fuzzy("zhang")),
            ("zhang wei", Query::And(vec![fuzzy("zhang"), fuzzy("wei")])),
            ("'exact", text(Substring, false, "exact")),
            ("^prefix", text(Prefix, false, "prefix")),
            ("suffix$", text(Suffix, false, "suffix")),
            ("^exact$", text(Exact, false, "exact")),
            ("'both$", text(Suffix, false, "both")),
            ("!not", text(Substring, true, "not")),
            ("!'not", text(Substring, true, "not")),
            ("!^x", text(Prefix, true, "x")),
            ("!x$", text(Suffix, true, "x")),
            ("!^x$", text(Exact, true, "x")),
            ("^", fuzzy("^")),
            ("$", fuzzy("$")),
            ("!", fuzzy("!")),
            ("^$", fuzzy("^$")),
            ("a$$", text(Suffix, false, "a$")),
            (
                "a|^b|c$|!d",
                Query::Text(TextTerm {
                    alternatives: vec![
                        TextAtom::new(Fuzzy, false, "a"),
                        TextAtom::new(Prefix, false, "b"),
                        TextAtom::new(Suffix, false, "c"),
                        TextAtom::new(Substring, true, "d"),
                    ],
                }),
            ),
            ("\"New South Wales\"", fuzzy("New South Wales")),
            ("'\"a b\"", text(Substring, false, "a b")),
            ("^\"a b\"$", text(Exact, false, "a b")),
            ("\"a \\\"q\\\" \\\\ b\"", fuzzy("a \"q\" \\ b")),
            ("\"tag:x\"", fuzzy("tag:x")),
            ("john@x.com", fuzzy("john@x.com")),
            ("10:30", fuzzy("10:30")),
            ("tag:vip", field(FieldKey::Tag, "vip")),
            ("TAG:VIP", field(FieldKey::Tag, "VIP")),
            ("tags:vip", field(FieldKey::Tag, "vip")),
            ("tag:interest/*", field(FieldKey::Tag, "interest/*")),
            ("city:上海", canon(Field::City, "上海")),
            (
                "region:\"New South Wales\"",
                canon(Field::Region, "New South Wales"),
            ),
            ("company:a|b", canon(Field::Company, "a|b")),
            ("email:gmail", canon(Field::Email, "gmail")),
            ("phone:138-0013", canon(Field::Phone, "138-0013")),
            ("source:web", canon(Field::Source, "web")),
            ("country:CN", canon(Field::Country, "CN")),
            ("postcode:200", canon(Field::Postcode, "200")),
            ("gender:f", canon(Field::Gender, "f")),
            ("title:cto", canon(Field::Title, "cto")),
            ("street:main", canon(Field::Street, "main")),
            ("name:li", canon(Field::Name, "li")),
            ("ext_id:C1", canon(Field::ExtId, "C1")),
            ("ext-id:C1", canon(Field::ExtId, "C1")),
            ("given_name:wei", canon(Field::GivenName, "wei")),
            ("family_name:zhang", canon(Field::FamilyName, "zhang")),
            ("Level:gold", field(FieldKey::Attr("Level".into()), "gold")),
            (
                "会员等级:金卡",
                field(FieldKey::Attr("会员等级".into()), "金卡"),
            ),
            (
                "spend>1000",
                cmp(Figure::Spend, CmpOp::Gt, CmpValue::Amount(1000.0)),
            ),
            (
                "spend<=50.5",
                cmp(Figure::Spend, CmpOp::Le, CmpValue::Amount(50.5)),
            ),
            (
                "orders>=3",
                cmp(Figure::Orders, CmpOp::Ge, CmpValue::Count(3)),
            ),
            (
                "orders=0",
                cmp(Figure::Orders, CmpOp::Eq, CmpValue::Count(0)),
            ),
            (
                "orders!=2",
                cmp(Figure::Orders, CmpOp::Ne, CmpValue::Count(2)),
            ),
            (
                "order_days<2",
                cmp(Figure::OrderDays, CmpOp::Lt, CmpValue::Count(2)),
            ),
            (
                "last_order<90d",
                cmp(
                    Figure::LastOrder,
                    CmpOp::Lt,
                    CmpValue::Age {
                        amount: 90,
                        unit: AgeUnit::Day,
                    },
                ),
            ),
            (
                "first_order>365d",
                cmp(
                    Figure::FirstOrder,
                    CmpOp::Gt,
                    CmpValue::Age {
                        amount: 365,
                        unit: AgeUnit::Day,
                    },
                ),
            ),
            (
                "created<2w",
                cmp(
                    Figure::Created,
                    CmpOp::Lt,
                    CmpValue::Age {
                        amount: 2,
                        unit: AgeUnit::Week,
                    },
                ),
            ),
            (
                "last_order>6M",
                cmp(
                    Figure::LastOrder,
                    CmpOp::Gt,
                    CmpValue::Age {
                        amount: 6,
                        unit: AgeUnit::Month,
                    },
                ),
            ),
            (
                "birth>30y",
                cmp(
                    Figure::Birth,
                    CmpOp::Gt,
                    CmpValue::Age {
                        amount: 30,
                        unit: AgeUnit::Year,
                    },
                ),
            ),
            (
                "last_order>=2024-01-01",
                cmp(Figure::LastOrder, CmpOp::Ge, date(2024, 1, 1)),
            ),
            (
                "created>=2024-01-01",
                cmp(Figure::Created, CmpOp::Ge, date(2024, 1, 1)),
            ),
            (
                "created_at>=2024-01-01",
                cmp(Figure::Created, CmpOp::Ge, date(2024, 1, 1)),
            ),
            (
                "birth<1990-01-01",
                cmp(Figure::Birth, CmpOp::Lt, date(1990, 1, 1)),
            ),
            (
                "rfm:champions",
                Query::Segment {
                    kind: SegmentKind::Rfm,
                    name: "champions".into(),
                },
            ),
            (
                "rfm:\"Can't Lose Them\"",
                Query::Segment {
                    kind: SegmentKind::Rfm,
                    name: "cant_lose_them".into(),
                },
            ),
            (
                "lifecycle:at_risk",
                Query::Segment {
                    kind: SegmentKind::Lifecycle,
                    name: "at_risk".into(),
                },
            ),
            (
                "value:high",
                Query::Segment {
                    kind: SegmentKind::Value,
                    name: "high".into(),
                },
            ),
            (
                "segment:\"Big Spenders\"",
                Query::Saved("Big Spenders".into()),
            ),
            ("has:email", Query::Has(Presence::Field(Field::Email))),
            (
                "missing:phone",
                Query::Missing(Presence::Field(Field::Phone)),
            ),
            ("has:tags", Query::Has(Presence::Tags)),
            ("missing:orders", Query::Missing(Presence::Orders)),
            (
                "has:birth_date",
                Query::Has(Presence::Field(Field::BirthDate)),
            ),
            ("has:level", Query::Has(Presence::Attr("level".into()))),
            (
                "invalid:phone",
                Query::Invalid(Validity::Field(Field::Phone)),
            ),
            (
                "invalid:Birth_Date",
                Query::Invalid(Validity::Field(Field::BirthDate)),
            ),
            (
                "invalid:birthday",
                Query::Invalid(Validity::Field(Field::BirthDate)),
            ),
            (
                "invalid:emails",
                Query::Invalid(Validity::Field(Field::Email)),
            ),
            ("invalid:any", Query::Invalid(Validity::Any)),
            ("invalid:order_date", Query::Invalid(Validity::OrderDate)),
            ("-invalid:any", not(Query::Invalid(Validity::Any))),
            (
                "stale:365d",
                Query::Stale {
                    amount: 365,
                    unit: AgeUnit::Day,
                },
            ),
            (
                "STALE:2Y",
                Query::Stale {
                    amount: 2,
                    unit: AgeUnit::Year,
                },
            ),
            ("-tag:churned", not(field(FieldKey::Tag, "churned"))),
            ("NOT city:Beijing", not(canon(Field::City, "Beijing"))),
            ("--a", not(not(fuzzy("a")))),
            (
                "tag:vip -tag:churned",
                Query::And(vec![
                    field(FieldKey::Tag, "vip"),
                    not(field(FieldKey::Tag, "churned")),
                ]),
            ),
            (
                "(tag:a OR tag:b) AND NOT city:Beijing",
                Query::And(vec![
                    Query::Or(vec![field(FieldKey::Tag, "a"), field(FieldKey::Tag, "b")]),
                    not(canon(Field::City, "Beijing")),
                ]),
            ),
            (
                "a b OR c",
                Query::Or(vec![Query::And(vec![fuzzy("a"), fuzzy("b")]), fuzzy("c")]),
            ),
            ("a | b", Query::Or(vec![fuzzy("a"), fuzzy("b")])),
            (
                "a OR b OR c",
                Query::Or(vec![fuzzy("a"), fuzzy("b"), fuzzy("c")]),
            ),
            (
                "(a (b c))",
                Query::And(vec![fuzzy("a"), fuzzy("b"), fuzzy("c")]),
            ),
            ("((a))", fuzzy("a")),
            ("-(a b)", not(Query::And(vec![fuzzy("a"), fuzzy("b")]))),
            ("NOT(a)", not(fuzzy("a"))),
            (
                "or and not",
                Query::And(vec![fuzzy("or"), fuzzy("and"), fuzzy("not")]),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Ok(want), "input: {input:?}");
        }
    }

    #[test]
    fn reports_errors_with_columns() {
        let cases: Vec<(&str, usize, &str)> = vec![
            ("zhang city:", 7, "expected a value after 'city:'"),
            ("city:\"\"", 1, "expected a value after 'city:'"),
            ("tag: vip", 1, "expected a value after 'tag:'"),
            ("has:", 1, "expected a field name after 'has:'"),
            ("a \"bc", 3, "unclosed quote"),
            ("city:\"New South", 6, "unclosed quote"),
            ("(a b", 1, "unclosed '('"),
            ("x (", 3, "unclosed '('"),
            ("a b)", 4, "unmatched ')'"),
            (")", 1, "unmatched ')'"),
            ("()", 1, "empty parentheses"),
            ("a OR", 3, "expected a term after OR"),
            ("OR a", 1, "OR needs a term before it"),
            ("a AND", 3, "expected a term after AND"),
            ("AND a", 1, "AND needs a term before it"),
            ("a OR OR b", 3, "expected a term after OR"),
            ("NOT", 1, "expected a term after NOT"),
            ("a (NOT)", 4, "expected a term after NOT"),
            ("a -", 3, "expected a term right after '-'"),
            ("spend>abc", 7, "bad amount 'abc' for spend"),
            ("spend>", 1, "expected a value after 'spend>'"),
            ("spend>nan", 7, "bad amount"),
            ("orders>=1.5", 9, "bad count '1.5' for orders"),
            ("last_order<90x", 12, "bad date or duration '90x'"),
            ("last_order<d", 12, "bad date or duration"),
            ("created>=2024-13-01", 10, "bad date '2024-13-01'"),
            ("birth<1990", 7, "bad date or duration"),
            (
                "zz foo>3",
                4,
                "unknown figure 'foo'; expected one of spend, orders",
            ),
            ("rfm:champ", 5, "unknown RFM segment 'champ'"),
            ("lifecycle:dead", 11, "unknown lifecycle stage 'dead'"),
            ("value:huge", 7, "unknown value tier 'huge'"),
            ("phone:abc", 7, "expected digits after 'phone:'"),
            ("invalid:", 1, "expected a value after 'invalid:'"),
            (
                "a invalid:nope",
                11,
                "unknown field 'nope' after 'invalid:'",
            ),
            ("stale:", 1, "expected a value after 'stale:'"),
            ("stale:365", 7, "bad age '365' after 'stale:'"),
            ("x stale:2024-01-01", 9, "bad age '2024-01-01'"),
            ("stale:d", 7, "bad age 'd'"),
            ("a||b", 3, "expected a term before '|'"),
            ("a| b", 2, "expected a term after '|'"),
            ("ab\"c\"", 3, "unexpected '\"' inside a word"),
            ("city:ab\"c\"", 8, "unexpected '\"' inside a value"),
            ("\"a\"b", 4, "expected a space after the closing quote"),
            ("\"\"", 1, "empty quotes"),
        ];
        for (input, column, message) in cases {
            match parse(input) {
                Err(e) => {
                    assert_eq!(e.column, column, "input {input:?}: {e}");
                    assert!(e.message.contains(message), "input {input:?}: {e}");
                }
                Ok(q) => panic!("input {input:?} parsed as {q:?}"),
            }
        }
    }

    #[test]
    fn error_display_names_the_column() {
        let e = parse("zhang city:").unwrap_err();
        assert_eq!(e.to_string(), "column 7: expected a value after 'city:'");
        let e = parse("foo>3").unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 1: unknown figure 'foo'; expected one of spend, orders, order_days, \
             last_order, first_order, created, birth, p_alive, clv, expected_purchases"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(parse("上海 city:").unwrap_err().column, 4);
    }

    #[test]
    fn display_is_canonical() {
        for (input, shown) in [
            ("zhang  wei", "zhang wei"),
            (
                "(tag:a OR tag:b) AND NOT city:Beijing",
                "(tag:a OR tag:b) -city:Beijing",
            ),
            ("a | b", "a OR b"),
            ("!'x", "!x"),
            ("'x", "'x"),
            ("\"a b\"|c$", "\"a b\"|c$"),
            ("^", "\"^\""),
            ("CITY:\"x\"", "city:x"),
            ("region:\"New South Wales\"", "region:\"New South Wales\""),
            ("Spend>1e3", "spend>1000"),
            ("orders>=03", "orders>=3"),
            ("last_order<90D", "last_order<90d"),
            ("created_at>=2024-01-01", "created>=2024-01-01"),
            ("rfm:Champions", "rfm:champions"),
            ("has:Tag", "has:tags"),
            ("NOT NOT a", "--a"),
            ("-(a OR b) c", "-(a OR b) c"),
            ("\"OR\"", "\"OR\""),
            ("'a:b$", "\"a:b\"$"),
            ("^a:b", "^a:b"),
            ("INVALID:Phones", "invalid:phone"),
            ("invalid:created", "invalid:created_at"),
            ("invalid:orders", "invalid:order_date"),
            ("stale:12M", "stale:12m"),
            ("stale:0365d", "stale:365d"),
        ] {
            let q = parse(input).unwrap();
            assert_eq!(q.to_string(), shown, "input {input:?}");
            assert_eq!(parse(shown).unwrap(), q, "shown {shown:?}");
        }
    }

    #[test]
    fn text_terms_are_positive_and_necessary() {
        let q = parse("zhang -wei (li OR wang) !x a|b a|!c tag:x").unwrap();
        let terms: Vec<String> = q.text_terms().iter().map(|t| t.to_string()).collect();
        assert_eq!(terms, ["zhang", "a|b"]);
        assert!(parse("").unwrap().is_all());
        assert!(!parse("a").unwrap().is_all());
    }

    /// Query strings built from the pieces of the language.
    pub(crate) fn query_text() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "zhang",
            "wei",
            "zw",
            "张",
            "'li",
            "^zh",
            "ng$",
            "^wei$",
            "!foo",
            "!^a",
            "a|b",
            "^x|'y|z$",
            "\"a b\"",
            "tag:vip",
            "tag:interest/*",
            "TAG:Vip",
            "city:上海",
            "city:\"New York\"",
            "email:gmail",
            "phone:138",
            "gender:f",
            "level:gold",
            "spend>100",
            "spend<=50.5",
            "orders>=2",
            "orders=0",
            "last_order<90d",
            "first_order>1y",
            "created>=2024-01-01",
            "birth<1990-01-01",
            "has:email",
            "missing:phone",
            "has:tags",
            "has:orders",
            "rfm:champions",
            "lifecycle:at_risk",
            "value:high",
            "segment:big",
            "invalid:email",
            "invalid:any",
            "invalid:order_date",
            "invalid:nope",
            "stale:365d",
            "stale:x",
            "(",
            ")",
            "OR",
            "AND",
            "NOT",
            "-",
            "|",
            "$",
            "^",
            "\"",
            ":",
            "x:",
            "foo>3",
            "é",
            "İ",
            "\\",
        ]);
        let sep = prop::sample::select(vec![" ", "", "  "]);
        prop::collection::vec((piece, sep), 0..10).prop_map(|v| {
            v.into_iter()
                .map(|(p, s)| format!("{p}{s}"))
                .collect::<String>()
        })
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let ok = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(parse(&ok).is_ok());
        for deep in [
            format!("{}a{}", "(".repeat(20_000), ")".repeat(20_000)),
            format!("{}a", "-".repeat(40_000)),
            format!("{}a", "NOT ".repeat(20_000)),
            format!("{}a", "-(".repeat(MAX_NESTING)),
        ] {
            let e = parse(&deep).unwrap_err();
            assert!(e.message.contains("nested"), "{e}");
            assert!(e.column <= deep.chars().count(), "{e}");
        }
    }

    proptest! {
        #[test]
        fn display_round_trips_built_queries(s in query_text()) {
            if let Ok(q) = parse(&s) {
                let shown = q.to_string();
                prop_assert_eq!(parse(&shown), Ok(q), "from {:?} shown as {:?}", s, shown);
            }
        }

        #[test]
        fn display_round_trips_arbitrary_text(s in "\\PC{0,40}") {
            if let Ok(q) = parse(&s) {
                let shown = q.to_string();
                prop_assert_eq!(parse(&shown), Ok(q), "from {:?} shown as {:?}", s, shown);
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,60}|[()\"'!^$|:<>=\\\\ a-zA-Z0-9-]{0,40}") {
            let _ = parse(&s);
        }

        #[test]
        fn error_columns_are_within_the_input(s in query_text()) {
            if let Err(e) = parse(&s) {
                prop_assert!(e.column >= 1 && e.column <= s.chars().count() + 1, "{:?}: {}", s, e);
            }
        }
    }
}
