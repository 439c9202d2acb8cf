//! CloudWatch Logs filter patterns: terms, quoted phrases, `?` alternatives, `-` exclusions,
//! and JSON patterns such as `{ ($.eventName = "ConsoleLogin") && ($.errorCode NOT EXISTS) }`.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterPattern {
    /// Matches every event (the empty pattern).
    All,
    /// Terms: every plain one appears, at least one `?` one (if any) does, no `-` one does.
    Terms {
        all: Vec<String>,
        any: Vec<String>,
        none: Vec<String>,
    },
    /// A condition on the event as JSON; never matches an event that is not JSON. `needles`:
    /// texts one of which a matching message must contain when it has no escapes (`\`), so
    /// most messages are refused without being parsed.
    Json {
        expr: Expr,
        needles: Option<Vec<String>>,
    },
}

/// A JSON condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Selector, Op, Literal),
    Is(Selector, IsWhat),
    NotExists(Selector),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsWhat {
    True,
    False,
    Null,
}

/// A value compared with: a number, or text (quoted or bare) where `*` matches any run.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64, String),
    Text(String),
}

/// `$.a.b[0].c`: field names and array indexes from the event's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(pub Vec<Step>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Field(String),
    Index(usize),
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FilterPattern {
    /// Parses a pattern (at most 1024 characters, as the model has it).
    pub fn parse(text: &str) -> Result<FilterPattern, PatternError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(FilterPattern::All);
        }
        if t.starts_with('[') {
            return Err(PatternError(
                "Space-delimited filter patterns ([...]) are not supported by this emulator."
                    .into(),
            ));
        }
        if t.starts_with('%') && t.ends_with('%') && t.len() > 1 {
            return Err(PatternError(
                "Regular-expression filter patterns (%...%) are not supported by this emulator."
                    .into(),
            ));
        }
        if let Some(inner) = t.strip_prefix('{') {
            let inner = inner.strip_suffix('}').ok_or_else(|| {
                PatternError(format!("Invalid filter pattern {text:?}: no closing }}."))
            })?;
            let mut p = Parser {
                s: inner.as_bytes(),
                at: 0,
                text,
            };
            let expr = p.or()?;
            p.skip_ws();
            if p.at != p.s.len() {
                return Err(p.error("unexpected text"));
            }
            let needles = expr.needles();
            return Ok(FilterPattern::Json { expr, needles });
        }
        let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
        let b = t.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let mut kind = 0u8;
            while i < b.len() && (b[i] == b'?' || b[i] == b'-') && kind == 0 {
                kind = b[i];
                i += 1;
            }
            let term = if i < b.len() && b[i] == b'"' {
                let start = i + 1;
                let end = t[start..].find('"').map(|e| start + e).ok_or_else(|| {
                    PatternError(format!("Invalid filter pattern {text:?}: unclosed quote."))
                })?;
                i = end + 1;
                t[start..end].to_string()
            } else {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                t[start..i].to_string()
            };
            if term.is_empty() {
                return Err(PatternError(format!(
                    "Invalid filter pattern {text:?}: an empty term."
                )));
            }
            match kind {
                b'?' => any.push(term),
                b'-' => none.push(term),
                _ => all.push(term),
            }
        }
        Ok(FilterPattern::Terms { all, any, none })
    }

    /// Whether a log event's message matches.
    pub fn matches(&self, message: &[u8]) -> bool {
        match self {
            FilterPattern::All => true,
            FilterPattern::Terms { all, any, none } => {
                let has = |t: &String| contains(message, t.as_bytes());
                all.iter().all(has)
                    && (any.is_empty() || any.iter().any(has))
                    && !none.iter().any(has)
            }
            FilterPattern::Json { expr, needles } => {
                if let Some(needles) = needles {
                    if memchr::memchr(b'\\', message).is_none()
                        && !needles.iter().any(|n| contains(message, n.as_bytes()))
                    {
                        return false;
                    }
                }
                match std::str::from_utf8(message) {
                    Ok(text) => expr.eval(text),
                    Err(_) => false,
                }
            }
        }
    }

    /// Whether matching needs the message parsed as JSON.
    pub fn is_json(&self) -> bool {
        matches!(self, FilterPattern::Json { .. })
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

impl Expr {
    /// Texts one of which must appear, unescaped, in the JSON text of any event this matches;
    /// `None` when there is no such set. An equality with a string holds only if the
    /// string's longest run without `*` appears in the text (when the text has no escapes);
    /// `&&` needs either side's, `||` both sides'.
    fn needles(&self) -> Option<Vec<String>> {
        match self {
            Expr::And(a, b) => a.needles().or_else(|| b.needles()),
            Expr::Or(a, b) => {
                let mut n = a.needles()?;
                n.extend(b.needles()?);
                Some(n)
            }
            Expr::Compare(_, Op::Eq, Literal::Text(t)) => {
                let longest = t.split('*').max_by_key(|p| p.len()).unwrap_or("");
                let plain = longest
                    .bytes()
                    .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f);
                // A number's text may be spelled differently in JSON (`1e3`).
                let numeric = longest.bytes().all(|b| b"0123456789.eE+-".contains(&b));
                (!longest.is_empty() && plain && !numeric).then(|| vec![longest.to_string()])
            }
            _ => None,
        }
    }

    /// Evaluates on a message's JSON text; fields are found by scanning the text, never by
    /// building the whole value (a message that is not JSON matches nothing).
    fn eval(&self, v: &str) -> bool {
        match self {
            Expr::And(a, b) => a.eval(v) && b.eval(v),
            Expr::Or(a, b) => a.eval(v) || b.eval(v),
            Expr::NotExists(sel) => matches!(sel.find(v), Ok(None)),
            Expr::Is(sel, what) => matches!(
                (sel.find(v), what),
                (Ok(Some(Value::Bool(true))), IsWhat::True)
                    | (Ok(Some(Value::Bool(false))), IsWhat::False)
                    | (Ok(Some(Value::Null)), IsWhat::Null)
            ),
            Expr::Compare(sel, op, lit) => match sel.find(v) {
                Ok(Some(found)) => compare(&found, *op, lit),
                _ => false,
            },
        }
    }
}

fn compare(found: &Value, op: Op, lit: &Literal) -> bool {
    match op {
        Op::Eq | Op::Ne => {
            let equal = match (found, lit) {
                (Value::Number(n), Literal::Number(x, _)) => n.as_f64() == Some(*x),
                (Value::String(s), Literal::Number(_, text)) => s == text,
                (Value::String(s), Literal::Text(t)) => glob(t.as_bytes(), s.as_bytes()),
                (Value::Bool(b), Literal::Text(t)) => glob(t.as_bytes(), b.to_string().as_bytes()),
                (Value::Number(n), Literal::Text(t)) => {
                    glob(t.as_bytes(), n.to_string().as_bytes())
                }
                _ => false,
            };
            equal == (op == Op::Eq)
        }
        _ => {
            let (Value::Number(n), Literal::Number(x, _)) = (found, lit) else {
                return false;
            };
            let Some(n) = n.as_f64() else { return false };
            match op {
                Op::Lt => n < *x,
                Op::Gt => n > *x,
                Op::Le => n <= *x,
                _ => n >= *x,
            }
        }
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && pattern[p] != b'*' && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl Selector {
    /// The value the selector names in the JSON text `v`: `Ok(None)` if it has none, `Err` if
    /// the text is not JSON. Each step scans one value's text for one member, skipping the
    /// others without building them.
    fn find(&self, v: &str) -> Result<Option<Value>, serde_json::Error> {
        let mut at: &str = v;
        for step in &self.0 {
            let mut de = serde_json::Deserializer::from_str(at);
            match Member(step).deserialize(&mut de)? {
                Some(raw) => at = raw.get(),
                None => {
                    de.end()?;
                    return Ok(None);
                }
            }
        }
        serde_json::from_str(at).map(Some)
    }
}

/// Finds one member of a JSON value in its text: the field `name` of an object (the last one,
/// if it repeats, as a parsed object keeps) or the element `i` of an array; every other
/// member is skipped unbuilt.
struct Member<'s>(&'s Step);

impl<'de> DeserializeSeed<'de> for Member<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let name = match self.0 {
            Step::Field(name) => Some(name.as_str()),
            Step::Index(_) => None,
        };
        while let Some(hit) = map.next_key_seed(KeyIs(name))? {
            if hit {
                found = Some(map.next_value::<&RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let wanted = match self.0 {
            Step::Index(i) => Some(*i),
            Step::Field(_) => None,
        };
        let mut found = None;
        let mut i = 0;
        loop {
            if Some(i) == wanted {
                match seq.next_element::<&RawValue>()? {
                    Some(raw) => found = Some(raw),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(found)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Whether an object's key is `name` (never, for `None`).
struct KeyIs<'s>(Option<&'s str>);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(self.0 == Some(key))
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> PatternError {
        PatternError(format!(
            "Invalid filter pattern {:?}: {what} at character {}.",
            self.text,
            self.at + 2
        ))
    }

    fn skip_ws(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.s[self.at..].starts_with(token.as_bytes()) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        self.skip_ws();
        let end = self.at + word.len();
        if self.s.len() >= end
            && self.s[self.at..end].eq_ignore_ascii_case(word.as_bytes())
            && self.s.get(end).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            self.at = end;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.atom()?;
        while self.eat("&&") {
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, PatternError> {
        if self.eat("(") {
            let e = self.or()?;
            if !self.eat(")") {
                return Err(self.error("expected )"));
            }
            return Ok(e);
        }
        let sel = self.selector()?;
        if self.eat_word("IS") {
            let what = if self.eat_word("TRUE") {
                IsWhat::True
            } else if self.eat_word("FALSE") {
                IsWhat::False
            } else if self.eat_word("NULL") {
                IsWhat::Null
            } else {
                return Err(self.error("expected TRUE, FALSE or NULL after IS"));
            };
            return Ok(Expr::Is(sel, what));
        }
        if self.eat_word("NOT") {
            if !self.eat_word("EXISTS") {
                return Err(self.error("expected EXISTS after NOT"));
            }
            return Ok(Expr::NotExists(sel));
        }
        let op = if self.eat("!=") {
            Op::Ne
        } else if self.eat("<=") {
            Op::Le
        } else if self.eat(">=") {
            Op::Ge
        } else if self.eat("=") {
            Op::Eq
        } else if self.eat("<") {
            Op::Lt
        } else if self.eat(">") {
            Op::Gt
        } else {
            return Err(self.error("expected a comparison"));
        };
        let lit = self.literal()?;
        if !matches!(op, Op::Eq | Op::Ne) && !matches!(lit, Literal::Number(..)) {
            return Err(self.error("an ordering comparison needs a number"));
        }
        Ok(Expr::Compare(sel, op, lit))
    }

    fn selector(&mut self) -> Result<Selector, PatternError> {
        self.skip_ws();
        if !self.eat("$") {
            return Err(self.error("expected a selector ($.field)"));
        }
        let mut steps = Vec::new();
        loop {
            if self.s.get(self.at) == Some(&b'.') {
                self.at += 1;
                let start = self.at;
                while self.at < self.s.len()
                    && (self.s[self.at].is_ascii_alphanumeric()
                        || matches!(self.s[self.at], b'_' | b'-' | b':' | b'@'))
                {
                    self.at += 1;
                }
                if start == self.at {
                    return Err(self.error("expected a field name"));
                }
                let name = std::str::from_utf8(&self.s[start..self.at]).unwrap_or_default();
                steps.push(Step::Field(name.to_string()));
            } else if self.s.get(self.at) == Some(&b'[') {
                self.at += 1;
                let start = self.at;
                while self.at < self.s.len() && self.s[self.at].is_ascii_digit() {
                    self.at += 1;
                }
                let n = std::str::from_utf8(&self.s[start..self.at])
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| self.error("expected an array index"))?;
                if self.s.get(self.at) != Some(&b']') {
                    return Err(self.error("expected ]"));
                }
                self.at += 1;
                steps.push(Step::Index(n));
            } else {
                break;
            }
        }
        if steps.is_empty() {
            return Err(self.error("expected a field after $"));
        }
        Ok(Selector(steps))
    }

    fn literal(&mut self) -> Result<Literal, PatternError> {
        self.skip_ws();
        if self.s.get(self.at) == Some(&b'"') {
            let start = self.at + 1;
            let end = self.s[start..]
                .iter()
                .position(|&c| c == b'"')
                .map(|e| start + e)
                .ok_or_else(|| self.error("unclosed quote"))?;
            self.at = end + 1;
            let text = std::str::from_utf8(&self.s[start..end]).unwrap_or_default();
            return Ok(Literal::Text(text.to_string()));
        }
        let start = self.at;
        while self.at < self.s.len()
            && !self.s[self.at].is_ascii_whitespace()
            && !matches!(self.s[self.at], b')' | b'&' | b'|')
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("expected a value"));
        }
        let text = std::str::from_utf8(&self.s[start..self.at])
            .unwrap_or_default()
            .to_string();
        Ok(match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Literal::Number(n, text),
            _ => Literal::Text(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice","sessionContext":{"attributes":{"mfaAuthenticated":"false"}}},"eventTime":"2024-02-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","responseElements":{"ConsoleLogin":"Failure"},"errorMessage":"Failed authentication","readOnly":false,"resources":[{"ARN":"arn:aws:iam::1:user/alice","type":"AWS::IAM::User"}],"requestParameters":null,"port":443}"#;

    fn m(pattern: &str, message: &str) -> bool {
        FilterPattern::parse(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .matches(message.as_bytes())
    }

    /// (pattern, matches LOGIN?), each answer worked out by hand from the record above.
    #[test]
    fn patterns_against_one_record() {
        let cases = [
            ("", true),
            ("ConsoleLogin", true),
            ("consolelogin", false),
            ("ConsoleLogin Failure", true),
            ("ConsoleLogin Success", false),
            ("\"Failed authentication\"", true),
            ("\"failed authentication\"", false),
            ("?Success ?Failure", true),
            ("?Success ?Denied", false),
            ("ConsoleLogin -Failure", false),
            ("ConsoleLogin -Denied", true),
            ("ConsoleLogin ?Denied ?alice", true),
            (r#"{ $.eventName = "ConsoleLogin" }"#, true),
            (r#"{ $.eventName = ConsoleLogin }"#, true),
            (r#"{ $.eventName = "Console*" }"#, true),
            (r#"{ $.eventName = "*Login" }"#, true),
            (r#"{ $.eventName = "Console" }"#, false),
            (r#"{ $.eventName != "ConsoleLogin" }"#, false),
            (r#"{ $.noSuchField != "x" }"#, false),
            (r#"{ $.errorCode NOT EXISTS }"#, true),
            (r#"{ $.errorMessage NOT EXISTS }"#, false),
            (
                r#"{ ($.eventName = "ConsoleLogin") && ($.errorCode NOT EXISTS) }"#,
                true,
            ),
            (
                r#"{ ($.eventName = "ConsoleLogin") && ($.userIdentity.type = "Root") }"#,
                false,
            ),
            (
                r#"{ ($.eventName = "X") || ($.userIdentity.type = "IAMUser") }"#,
                true,
            ),
            (
                r#"{ $.eventName = "X" || $.eventName = "Y" && $.port = 443 }"#,
                false,
            ),
            (
                r#"{ $.userIdentity.sessionContext.attributes.mfaAuthenticated = "false" }"#,
                true,
            ),
            (
                r#"{ $.resources[0].ARN = "arn:aws:iam::1:user/alice" }"#,
                true,
            ),
            (r#"{ $.resources[1].ARN = "*" }"#, false),
            (r#"{ $.sourceIPAddress != 1.2.3.4 }"#, false),
            (r#"{ $.sourceIPAddress = 1.2.3.* }"#, true),
            (r#"{ $.port = 443 }"#, true),
            (r#"{ $.port > 100 }"#, true),
            (r#"{ $.port <= 442 }"#, false),
            (r#"{ $.eventVersion > 1 }"#, false),
            (r#"{ $.readOnly IS FALSE }"#, true),
            (r#"{ $.readOnly IS TRUE }"#, false),
            (r#"{ $.requestParameters IS NULL }"#, true),
            (r#"{ $.missing IS NULL }"#, false),
        ];
        for (pattern, want) in cases {
            assert_eq!(m(pattern, LOGIN), want, "{pattern}");
        }
        // A JSON pattern never matches a message that is not JSON; terms do.
        assert!(!m(r#"{ $.a NOT EXISTS }"#, "plain text"));
        assert!(m("plain", "plain text"));
    }

    /// The shortcut that skips parsing never changes an answer: escaped text still matches,
    /// and numbers spelled otherwise are still compared.
    #[test]
    fn needles_never_change_answers() {
        let escaped = r#"{"eventName":"\u0043onsoleLogin","n":1e3}"#;
        assert!(m(r#"{ $.eventName = "ConsoleLogin" }"#, escaped));
        assert!(m(r#"{ $.eventName = "Console*" }"#, escaped));
        assert!(m(r#"{ $.n = 1000 }"#, r#"{"n":1e3}"#));
        assert!(m(r#"{ ($.a = "x") || ($.b = "y") }"#, r#"{"b":"y"}"#));
        assert!(!m(r#"{ ($.a = "x") || ($.b = "y") }"#, r#"{"b":"z"}"#));
        assert!(m(r#"{ ($.a = "x") && ($.b NOT EXISTS) }"#, r#"{"a":"x"}"#));
        // Fields found in the text, as a parsed value has them: the last of a repeated key,
        // inside arrays and objects, and nothing in text that is not JSON.
        assert!(m(r#"{ $.a = 2 }"#, r#"{"a":1,"a":2}"#));
        assert!(!m(r#"{ $.a = 1 }"#, r#"{"a":1,"a":2}"#));
        assert!(m(
            r#"{ $.r[1].x[0] = "y" }"#,
            r#"{"r":[{"x":1},{"x":["y"]}],"z":0}"#
        ));
        assert!(!m(r#"{ $.r[2] NOT EXISTS }"#, r#"{"r":[1,2] "#));
        assert!(m(r#"{ $.r[2] NOT EXISTS }"#, r#"{"r":[1,2]}"#));
        assert!(m(r#"{ $.s.t NOT EXISTS }"#, r#"{"s":"text"}"#));
    }

    #[test]
    fn refused_patterns() {
        for bad in [
            "[ip, user, ...]",
            "%Console.*%",
            r#"{ $.eventName = }"#,
            r#"{ $.eventName = "x" "#,
            r#"{ eventName = "x" }"#,
            r#"{ $.port > "x" }"#,
            r#"{ ($.a = 1 }"#,
            r#"{ $.a IS MAYBE }"#,
            "\"unclosed",
        ] {
            assert!(FilterPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn globs() {
        for (p, t, want) in [
            ("a*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "abd", false),
            ("*", "", true),
            ("**x", "yx", true),
            ("x", "x", true),
            ("x", "xx", false),
        ] {
            assert_eq!(glob(p.as_bytes(), t.as_bytes()), want, "{p} {t}");
        }
    }
}
