//! From Lake SQL text to one SQLite statement: parse with sqlparser, resolve every name against
//! the stores and the query's own relations, check types the way Trino does, and write SQLite
//! SQL whose functions (see [`crate::functions`]) keep Trino's semantics.

use crate::types::{columns, Column, LakeType, Source};
use sqlparser::ast::{
    self, BinaryOperator, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, JoinConstraint, JoinOperator, LimitClause, ObjectNamePart, OrderByKind, Query,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, Statement,
    TableFactor, UnaryOperator, Value,
};
use sqlparser::dialect::Dialect;
use sqlparser::parser::Parser;
use std::cell::RefCell;
use std::fmt::Write;

/// Why a statement cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Not valid Lake SQL (syntax, names, types, a statement other than SELECT).
    #[error("{0}")]
    Invalid(String),
    /// `FROM` names an event data store that does not exist.
    #[error("Event data store {0} not found")]
    StoreNotFound(String),
}

/// The event data stores a statement may name.
pub trait Catalog {
    /// The store's number, from its ID (the ID portion of its ARN).
    fn store(&self, id: &str) -> Option<i64>;
}

/// A record path a table reference must provide, with its type.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPath {
    pub path: Vec<String>,
    pub ty: LakeType,
    pub source: Source,
}

/// A statement ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The SQLite statement.
    pub sql: String,
    /// Result column names (as GetQueryResults spells them) and types.
    pub columns: Vec<(String, LakeType)>,
    /// Every record path the statement reads; `lk_col(..., i)` reads `paths[i]`.
    pub paths: Vec<RecordPath>,
    /// The stores named, by number, without repeats.
    pub stores: Vec<i64>,
}

#[derive(Debug)]
struct LakeDialect;

impl Dialect for LakeDialect {
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_'
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_'
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '"'
    }
    fn supports_lambda_functions(&self) -> bool {
        true
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
}

fn invalid(msg: impl Into<String>) -> PlanError {
    PlanError::Invalid(msg.into())
}

fn at(span: sqlparser::tokenizer::Span, msg: impl std::fmt::Display) -> PlanError {
    if span.start.line == 0 {
        invalid(msg.to_string())
    } else {
        invalid(format!(
            "line {}:{}: {msg}",
            span.start.line, span.start.column
        ))
    }
}

/// Quotes bare store IDs after `FROM` and `JOIN` (`FROM 5e2676f8-9fce-…` is one name in Lake,
/// but a number and minus signs to a SQL lexer). Strings, quoted names and comments are skipped.
pub fn quote_store_ids(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut i = 0;
    let mut last_word = String::new();
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            let q = c;
            let start = i;
            i += 1;
            while i < b.len() {
                if b[i] == q {
                    if i + 1 < b.len() && b[i + 1] == q {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push_str(&sql[start..i]);
            last_word.clear();
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            let start = i;
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            out.push_str(&sql[start..i]);
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let start = i;
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
            out.push_str(&sql[start..i]);
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            // After FROM or JOIN any dashed name is a store ID; anywhere else (a FROM list), a
            // name shaped like a UUID is.
            let after_from = last_word == "from" || last_word == "join" || is_uuid_at(&b[i..]);
            if after_from {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-')
                {
                    i += 1;
                }
                let word = &sql[start..i];
                if word.contains('-') || word.as_bytes()[0].is_ascii_digit() {
                    out.push('"');
                    out.push_str(word);
                    out.push('"');
                } else {
                    out.push_str(word);
                }
                last_word = word.to_ascii_lowercase();
            } else {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                last_word = sql[start..i].to_ascii_lowercase();
                out.push_str(&sql[start..i]);
            }
            continue;
        }
        if !c.is_ascii_whitespace() {
            last_word.clear();
        }
        let ch = sql[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Whether `b` starts with a UUID (8-4-4-4-12 hex digits) not followed by a name character.
fn is_uuid_at(b: &[u8]) -> bool {
    let groups = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (n, len) in groups.iter().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'-') {
                return false;
            }
            i += 1;
        }
        for _ in 0..*len {
            if !b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                return false;
            }
            i += 1;
        }
    }
    !b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

/// Parses, checks and translates one statement.
pub fn plan(statement: &str, catalog: &dyn Catalog) -> Result<Plan, PlanError> {
    let text = quote_store_ids(statement);
    plan_quoted(&text, catalog).map_err(|e| match e {
        PlanError::Invalid(m) => PlanError::Invalid(unshift(&m, statement, &text)),
        other => other,
    })
}

/// A message's `line L:C:` position in the quoted text, as a position in the statement the user
/// wrote (every quote `quote_store_ids` added before it on that line moves it one column).
fn unshift(message: &str, original: &str, quoted: &str) -> String {
    let Some(rest) = message.strip_prefix("line ") else {
        return message.to_string();
    };
    let Some((pos, tail)) = rest.split_once(": ") else {
        return message.to_string();
    };
    let Some((line, col)) = pos.split_once(':') else {
        return message.to_string();
    };
    let (Ok(line), Ok(col)) = (line.parse::<usize>(), col.parse::<usize>()) else {
        return message.to_string();
    };
    let (Some(o), Some(q)) = (
        original.lines().nth(line.saturating_sub(1)),
        quoted.lines().nth(line.saturating_sub(1)),
    ) else {
        return message.to_string();
    };
    let mut o = o.chars().peekable();
    let mut added = 0;
    for (n, c) in q.chars().enumerate() {
        if n + 1 >= col {
            break;
        }
        if o.peek() == Some(&c) {
            o.next();
        } else if c == '"' {
            added += 1;
        }
    }
    format!("line {line}:{}: {tail}", col - added)
}

fn plan_quoted(text: &str, catalog: &dyn Catalog) -> Result<Plan, PlanError> {
    let statements = Parser::parse_sql(&LakeDialect, text).map_err(|e| {
        let msg = match e {
            sqlparser::parser::ParserError::TokenizerError(m)
            | sqlparser::parser::ParserError::ParserError(m) => m,
            sqlparser::parser::ParserError::RecursionLimitExceeded => {
                "the statement is nested too deeply".into()
            }
        };
        invalid(syntax_message(&msg))
    })?;
    let query = match statements.as_slice() {
        [] => {
            return Err(invalid(
                "line 1:1: mismatched input '<EOF>'. Expecting: 'SELECT'",
            ))
        }
        [Statement::Query(q)] => q,
        [_] => return Err(invalid(
            "line 1:1: Only SELECT statements are supported: CloudTrail Lake queries are read-only",
        )),
        _ => {
            return Err(invalid(
                "Only one statement is allowed; remove everything after the first ';'",
            ))
        }
    };
    let planner = Planner {
        catalog,
        paths: RefCell::new(Vec::new()),
        stores: RefCell::new(Vec::new()),
        next: RefCell::new(0),
        ctes: RefCell::new(Vec::new()),
    };
    let out = planner.query(query, None)?;
    let paths = planner.paths.into_inner();
    let stores = planner.stores.into_inner();
    Ok(Plan {
        sql: out.sql,
        columns: out.cols,
        paths,
        stores,
    })
}

/// sqlparser's "… at Line: 1, Column: 5" as Trino's "line 1:5: …".
fn syntax_message(msg: &str) -> String {
    if let Some(i) = msg.rfind(" at Line: ") {
        let (text, pos) = msg.split_at(i);
        let pos = pos.trim_start_matches(" at Line: ");
        if let Some((line, col)) = pos.split_once(", Column: ") {
            return format!("line {}:{}: {}", line.trim(), col.trim(), text.trim());
        }
    }
    msg.to_string()
}

/// A translated query: SQL whose columns are `c0`, `c1`, … and their names and types.
struct Out {
    sql: String,
    cols: Vec<(String, LakeType)>,
}

/// A relation visible in a SELECT's scope.
#[derive(Clone)]
struct Rel {
    /// The name a column may be qualified with (lowercase), if any.
    name: Option<String>,
    /// The SQL alias.
    alias: String,
    kind: RelKind,
}

#[derive(Clone)]
enum RelKind {
    Store,
    Derived(Vec<(String, LakeType)>),
}

#[derive(Clone, Default)]
struct Scope<'p> {
    rels: Vec<Rel>,
    /// Lambda parameters: name, SQL, type.
    vars: Vec<(String, String, LakeType)>,
    parent: Option<&'p Scope<'p>>,
}

struct Planner<'c> {
    catalog: &'c dyn Catalog,
    paths: RefCell<Vec<RecordPath>>,
    stores: RefCell<Vec<i64>>,
    next: RefCell<usize>,
    /// Visible CTEs: name (lowercase), SQL name, columns.
    ctes: RefCell<Vec<Cte>>,
}

/// A visible CTE: its name (lowercase), its SQL name, its columns.
type Cte = (String, String, Vec<(String, LakeType)>);

/// How an expression translated: SQL and type, plus whether it holds an aggregate.
#[derive(Clone)]
struct Tx {
    sql: String,
    ty: LakeType,
}

fn tx(sql: impl Into<String>, ty: LakeType) -> Tx {
    Tx {
        sql: sql.into(),
        ty,
    }
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ident_name(i: &ast::Ident) -> String {
    i.value.to_ascii_lowercase()
}

fn type_list(args: &[Tx]) -> String {
    args.iter()
        .map(|a| a.ty.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A string literal compared with a timestamp (lake-sql.md §6.5): one of three forms, UTC.
pub fn time_literal(s: &str) -> Option<i64> {
    use chrono::NaiveDateTime;
    let forms = [
        ("%Y-%m-%d %H:%M:%S%.3f", false),
        ("%Y-%m-%d %H:%M:%S", false),
        ("%Y-%m-%dT%H:%M:%S%.3fZ", false),
        ("%Y-%m-%dT%H:%M:%SZ", false),
    ];
    if s.len() == 10 {
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    for (f, _) in forms {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            // %.3f accepts any number of digits; the forms allow exactly three.
            if f.contains("%.3f") {
                let frac = s.rsplit('.').next().unwrap_or("");
                let digits = frac.trim_end_matches('Z');
                if digits.len() != 3 {
                    continue;
                }
            }
            return Some(t.and_utc().timestamp_millis());
        }
    }
    None
}

impl<'c> Planner<'c> {
    fn fresh(&self, prefix: &str) -> String {
        let mut n = self.next.borrow_mut();
        *n += 1;
        format!("{prefix}{}", *n)
    }

    fn path_index(&self, path: Vec<String>, ty: LakeType, source: Source) -> usize {
        let mut paths = self.paths.borrow_mut();
        if let Some(i) = paths
            .iter()
            .position(|p| p.path == path && p.source == source)
        {
            return i;
        }
        paths.push(RecordPath { path, ty, source });
        paths.len() - 1
    }

    // ---------------------------------------------------------------------------------------
    // Queries

    fn query(&self, q: &Query, outer: Option<&Scope>) -> Result<Out, PlanError> {
        if q.fetch.is_some() || !q.locks.is_empty() || !q.pipe_operators.is_empty() {
            return Err(invalid("Only SELECT statements are supported"));
        }
        let saved = self.ctes.borrow().len();
        let mut with_sql = String::new();
        if let Some(with) = &q.with {
            if with.recursive {
                return Err(invalid("WITH RECURSIVE is not supported"));
            }
            for cte in &with.cte_tables {
                let out = self.query(&cte.query, outer)?;
                let name = self.fresh("w");
                let mut cols = out.cols;
                if !cte.alias.columns.is_empty() {
                    if cte.alias.columns.len() != cols.len() {
                        return Err(at(
                            cte.alias.name.span,
                            format!(
                                "WITH query name {} specifies {} column names, but it has {}",
                                cte.alias.name.value,
                                cte.alias.columns.len(),
                                cols.len()
                            ),
                        ));
                    }
                    for (c, a) in cols.iter_mut().zip(&cte.alias.columns) {
                        c.0 = a.name.value.clone();
                    }
                }
                with_sql.push_str(if with_sql.is_empty() { "WITH " } else { ", " });
                write!(with_sql, "\"{name}\" AS ({})", out.sql).expect("string");
                self.ctes
                    .borrow_mut()
                    .push((ident_name(&cte.alias.name), name, cols));
            }
        }
        let result = self.query_body(q, outer);
        self.ctes.borrow_mut().truncate(saved);
        let mut out = result?;
        if !with_sql.is_empty() {
            out.sql = format!("{with_sql} {}", out.sql);
        }
        Ok(out)
    }

    fn query_body(&self, q: &Query, outer: Option<&Scope>) -> Result<Out, PlanError> {
        let order = match &q.order_by {
            Some(ob) => match &ob.kind {
                OrderByKind::Expressions(e) => e.as_slice(),
                OrderByKind::All(_) => return Err(invalid("ORDER BY ALL is not supported")),
            },
            None => &[],
        };
        let limit = self.limit(q.limit_clause.as_ref())?;
        match &*q.body {
            SetExpr::Select(s) => self.select(s, order, &limit, outer),
            _ => {
                let body = self.set_expr(&q.body, outer)?;
                let mut sql = format!("SELECT * FROM ({}) ", body.sql);
                if !order.is_empty() {
                    let mut keys = Vec::new();
                    for o in order {
                        let i = self.output_position(&o.expr, &body.cols)?.ok_or_else(|| {
                            invalid(format!(
                                "ORDER BY of a UNION, EXCEPT or INTERSECT must name one of its columns: {}",
                                o.expr
                            ))
                        })?;
                        keys.push(order_key(&format!("\"c{i}\""), &o.options));
                    }
                    write!(sql, "ORDER BY {}", keys.join(", ")).expect("string");
                }
                sql.push_str(&limit);
                Ok(Out {
                    sql,
                    cols: body.cols,
                })
            }
        }
    }

    fn limit(&self, l: Option<&LimitClause>) -> Result<String, PlanError> {
        let number = |e: &Expr| -> Result<i64, PlanError> {
            match e {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => {
                        n.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                            invalid(format!("LIMIT must be a non-negative integer: {n}"))
                        })
                    }
                    _ => Err(invalid("LIMIT must be a number")),
                },
                _ => Err(invalid("LIMIT must be a number")),
            }
        };
        Ok(match l {
            None => String::new(),
            Some(LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(invalid("LIMIT BY is not supported"));
                }
                let mut s = String::new();
                match limit {
                    Some(Expr::Identifier(i)) if i.value.eq_ignore_ascii_case("all") => {
                        s.push_str(" LIMIT -1")
                    }
                    Some(e) => write!(s, " LIMIT {}", number(e)?).expect("string"),
                    None if offset.is_some() => s.push_str(" LIMIT -1"),
                    None => {}
                }
                if let Some(o) = offset {
                    write!(s, " OFFSET {}", number(&o.value)?).expect("string");
                }
                s
            }
            Some(LimitClause::OffsetCommaLimit { .. }) => {
                return Err(invalid("LIMIT offset, count is not Trino syntax"))
            }
        })
    }

    fn set_expr(&self, e: &SetExpr, outer: Option<&Scope>) -> Result<Out, PlanError> {
        match e {
            SetExpr::Select(s) => self.select(s, &[], "", outer),
            SetExpr::Query(q) => {
                let out = self.query(q, outer)?;
                Ok(Out {
                    sql: format!("SELECT * FROM ({})", out.sql),
                    cols: out.cols,
                })
            }
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                let l = self.set_expr(left, outer)?;
                let r = self.set_expr(right, outer)?;
                if l.cols.len() != r.cols.len() {
                    return Err(invalid(format!(
                        "{op} query has different number of fields: {}, {}",
                        l.cols.len(),
                        r.cols.len()
                    )));
                }
                let mut cols = Vec::new();
                for ((n, a), (_, b)) in l.cols.iter().zip(&r.cols) {
                    let t = a.unify(b).ok_or_else(|| {
                        invalid(format!("column types of {op} do not match: {a} and {b}"))
                    })?;
                    cols.push((n.clone(), t));
                }
                let all = matches!(set_quantifier, SetQuantifier::All);
                let word = match (op, all) {
                    (SetOperator::Union, true) => "UNION ALL",
                    (SetOperator::Union, false) => "UNION",
                    (SetOperator::Except, false) => "EXCEPT",
                    (SetOperator::Intersect, false) => "INTERSECT",
                    _ => return Err(invalid(format!("{op} {set_quantifier} is not supported"))),
                };
                Ok(Out {
                    sql: format!("SELECT * FROM ({}) {word} SELECT * FROM ({})", l.sql, r.sql),
                    cols,
                })
            }
            SetExpr::Values(_) => Err(invalid("VALUES is not supported")),
            _ => Err(invalid(
                "Only SELECT statements are supported: CloudTrail Lake queries are read-only",
            )),
        }
    }

    /// Which output column an ORDER BY term of a set operation names (ordinal or name).
    fn output_position(
        &self,
        e: &Expr,
        cols: &[(String, LakeType)],
    ) -> Result<Option<usize>, PlanError> {
        Ok(match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => {
                    let i: usize = n.parse().map_err(|_| invalid("bad ORDER BY position"))?;
                    if i == 0 || i > cols.len() {
                        return Err(invalid(format!(
                            "ORDER BY position {i} is not in select list"
                        )));
                    }
                    Some(i - 1)
                }
                _ => None,
            },
            Expr::Identifier(id) => {
                let found: Vec<usize> = cols
                    .iter()
                    .enumerate()
                    .filter(|(_, (n, _))| n.eq_ignore_ascii_case(&id.value))
                    .map(|(i, _)| i)
                    .collect();
                found.first().copied()
            }
            _ => None,
        })
    }

    fn table_factor(
        &self,
        f: &TableFactor,
        outer: Option<&Scope>,
        from_sql: &mut String,
    ) -> Result<Rel, PlanError> {
        match f {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return Err(invalid("table functions are not supported"));
                }
                let parts: Vec<&ast::Ident> = name
                    .0
                    .iter()
                    .filter_map(|p| match p {
                        ObjectNamePart::Identifier(i) => Some(i),
                        _ => None,
                    })
                    .collect();
                let Some(last) = parts.last() else {
                    return Err(invalid("bad table name"));
                };
                let qual = alias
                    .as_ref()
                    .map(|a| ident_name(&a.name))
                    .unwrap_or_else(|| ident_name(last));
                if parts.len() == 1 {
                    let lower = ident_name(last);
                    let cte = self
                        .ctes
                        .borrow()
                        .iter()
                        .rev()
                        .find(|(n, _, _)| *n == lower)
                        .cloned();
                    if let Some((_, sql_name, cols)) = cte {
                        let a = self.fresh("t");
                        write!(from_sql, "\"{sql_name}\" AS \"{a}\"").expect("string");
                        let cols = rename(cols, alias);
                        return Ok(Rel {
                            name: Some(qual),
                            alias: a,
                            kind: RelKind::Derived(cols),
                        });
                    }
                }
                let id = parts
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                let store_id = id.rsplit('/').next().unwrap_or(&id);
                let Some(num) = self.catalog.store(store_id) else {
                    if looks_like_store(&id) {
                        return Err(PlanError::StoreNotFound(id));
                    }
                    return Err(at(last.span, format!("Table '{id}' does not exist")));
                };
                {
                    let mut stores = self.stores.borrow_mut();
                    if !stores.contains(&num) {
                        stores.push(num);
                    }
                }
                let a = self.fresh("t");
                // Filled in when the whole statement is known (see `finish`).
                write!(from_sql, "\u{1}{a}:{num}\u{1} AS \"{a}\"").expect("string");
                Ok(Rel {
                    name: Some(qual),
                    alias: a,
                    kind: RelKind::Store,
                })
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
            } => {
                if *lateral {
                    return Err(invalid("LATERAL is not supported"));
                }
                let out = self.query(subquery, outer)?;
                let a = self.fresh("t");
                write!(from_sql, "({}) AS \"{a}\"", out.sql).expect("string");
                Ok(Rel {
                    name: alias.as_ref().map(|x| ident_name(&x.name)),
                    alias: a,
                    kind: RelKind::Derived(rename(out.cols, alias)),
                })
            }
            TableFactor::NestedJoin { .. } => Err(invalid("parenthesised joins are not supported")),
            TableFactor::UNNEST { .. } => Err(invalid("UNNEST is not supported")),
            other => Err(invalid(format!("not supported in FROM: {other}"))),
        }
    }

    fn select(
        &self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
        limit: &str,
        outer: Option<&Scope>,
    ) -> Result<Out, PlanError> {
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.qualify.is_some()
            || s.connect_by.is_some()
            || !s.named_window.is_empty()
        {
            return Err(invalid("this SELECT form is not supported in Lake SQL"));
        }
        let mut scope = Scope {
            parent: outer,
            ..Default::default()
        };
        let mut from_sql = String::new();
        for (n, twj) in s.from.iter().enumerate() {
            if n > 0 {
                from_sql.push_str(" CROSS JOIN ");
            }
            let rel = self.table_factor(&twj.relation, outer, &mut from_sql)?;
            scope.rels.push(rel);
            for j in &twj.joins {
                let (word, constraint) = match &j.join_operator {
                    JoinOperator::Join(c) | JoinOperator::Inner(c) => ("JOIN", Some(c)),
                    JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT JOIN", Some(c)),
                    JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("RIGHT JOIN", Some(c)),
                    JoinOperator::FullOuter(c) => ("FULL JOIN", Some(c)),
                    JoinOperator::CrossJoin(_) => ("CROSS JOIN", None),
                    _ => return Err(invalid("this kind of JOIN is not supported")),
                };
                write!(from_sql, " {word} ").expect("string");
                let rel = self.table_factor(&j.relation, outer, &mut from_sql)?;
                scope.rels.push(rel);
                match constraint {
                    Some(JoinConstraint::On(e)) => {
                        let c = self.expr(e, &scope)?;
                        expect_boolean(&c, "JOIN ON")?;
                        write!(from_sql, " ON {}", c.sql).expect("string");
                    }
                    Some(JoinConstraint::None) | None => {}
                    Some(_) => {
                        return Err(invalid("JOIN USING and NATURAL JOIN are not supported"))
                    }
                }
            }
        }
        // Projection.
        let mut items: Vec<(String, Tx)> = Vec::new();
        for (n, item) in s.projection.iter().enumerate() {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let t = self.expr(e, &scope)?;
                    items.push((default_name(e, n), t));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let t = self.expr(expr, &scope)?;
                    items.push((alias.value.clone(), t));
                }
                SelectItem::Wildcard(_) => {
                    if scope.rels.is_empty() {
                        return Err(invalid(
                            "SELECT * not allowed in queries without FROM clause",
                        ));
                    }
                    for rel in scope.rels.clone() {
                        self.expand(&rel, &mut items);
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let name = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(o) => {
                            o.0.last()
                                .and_then(|p| match p {
                                    ObjectNamePart::Identifier(i) => Some(ident_name(i)),
                                    _ => None,
                                })
                                .unwrap_or_default()
                        }
                        SelectItemQualifiedWildcardKind::Expr(_) => {
                            return Err(invalid("expr.* is not supported"))
                        }
                    };
                    let rel = scope
                        .rels
                        .iter()
                        .find(|r| r.name.as_deref() == Some(name.as_str()))
                        .cloned()
                        .ok_or_else(|| invalid(format!("Table '{name}' not found in FROM")))?;
                    self.expand(&rel, &mut items);
                }
            }
        }
        let mut sql = String::from("SELECT ");
        match &s.distinct {
            Some(ast::Distinct::Distinct) => sql.push_str("DISTINCT "),
            Some(ast::Distinct::On(_)) => return Err(invalid("DISTINCT ON is not supported")),
            None => {}
        }
        let list: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, (_, t))| format!("{} AS \"c{i}\"", t.sql))
            .collect();
        sql.push_str(&list.join(", "));
        if !from_sql.is_empty() {
            write!(sql, " FROM {from_sql}").expect("string");
        }
        if let Some(w) = &s.selection {
            let c = self.expr(w, &scope)?;
            expect_boolean(&c, "WHERE")?;
            write!(sql, " WHERE {}", c.sql).expect("string");
        }
        let mut group_keys: Vec<String> = Vec::new();
        match &s.group_by {
            GroupByExpr::Expressions(exprs, mods) => {
                if !mods.is_empty() {
                    return Err(invalid("GROUP BY modifiers are not supported"));
                }
                if !exprs.is_empty() {
                    let keys = &mut group_keys;
                    for e in exprs {
                        if let Some(i) = ordinal(e) {
                            let (_, t) = items.get(i.wrapping_sub(1)).ok_or_else(|| {
                                invalid(format!("GROUP BY position {i} is not in select list"))
                            })?;
                            keys.push(t.sql.clone());
                        } else {
                            keys.push(self.expr(e, &scope)?.sql);
                        }
                    }
                    let keys: Vec<String> = keys.iter().map(|k| self.group_key(k)).collect();
                    write!(sql, " GROUP BY {}", keys.join(", ")).expect("string");
                }
            }
            GroupByExpr::All(_) => return Err(invalid("GROUP BY ALL is not supported")),
        }
        let mut having_sql = String::new();
        if let Some(h) = &s.having {
            let c = self.expr(h, &scope)?;
            expect_boolean(&c, "HAVING")?;
            write!(sql, " HAVING {}", c.sql).expect("string");
            having_sql = c.sql;
        }
        // Trino: in a query that groups or aggregates, every column a select item reads outside
        // an aggregate must be (part of) a GROUP BY expression.
        let aggregated = !group_keys.is_empty()
            || items.iter().any(|(_, t)| has_aggregate(&t.sql))
            || has_aggregate(&having_sql);
        if aggregated {
            let aliases: Vec<&str> = scope.rels.iter().map(|r| r.alias.as_str()).collect();
            for (name, t) in &items {
                if !grouped(&t.sql, &group_keys, &aliases) {
                    return Err(invalid(format!(
                        "'{name}' must be an aggregate expression or appear in GROUP BY clause"
                    )));
                }
            }
        }
        if !order.is_empty() {
            let cols: Vec<(String, LakeType)> = items
                .iter()
                .map(|(n, t)| (n.clone(), t.ty.clone()))
                .collect();
            let mut keys = Vec::new();
            for o in order {
                let key = match self.output_position(&o.expr, &cols)? {
                    Some(i) => format!("\"c{i}\""),
                    None => {
                        let t = self.expr(&o.expr, &scope)?;
                        match items.iter().position(|(_, it)| it.sql == t.sql) {
                            Some(i) => format!("\"c{i}\""),
                            None => t.sql,
                        }
                    }
                };
                keys.push(order_key(&key, &o.options));
            }
            write!(sql, " ORDER BY {}", keys.join(", ")).expect("string");
        }
        sql.push_str(limit);
        Ok(Out {
            sql,
            cols: items.into_iter().map(|(n, t)| (n, t.ty)).collect(),
        })
    }

    /// A GROUP BY key that is a store's `eventSource` or `eventName` groups by the interned
    /// string's number instead: the same groups (one number per string), and SQLite can walk
    /// the `events_by_name` index in order instead of sorting the strings.
    fn group_key(&self, key: &str) -> String {
        let Some(rest) = key.strip_prefix("\"t") else {
            return key.to_string();
        };
        let Some((table, col)) = rest.split_once("\".\"p") else {
            return key.to_string();
        };
        let Some(i) = col.strip_suffix('"').and_then(|c| c.parse::<usize>().ok()) else {
            return key.to_string();
        };
        if !table.bytes().all(|b| b.is_ascii_digit()) {
            return key.to_string();
        }
        match self.paths.borrow().get(i).and_then(narrow) {
            Some(Narrow::Source | Narrow::Name) => format!("\"t{table}\".\"p{i}_id\""),
            _ => key.to_string(),
        }
    }

    fn expand(&self, rel: &Rel, items: &mut Vec<(String, Tx)>) {
        match &rel.kind {
            RelKind::Store => {
                for c in columns() {
                    let t = self.store_column(&rel.alias, &c, &[]);
                    items.push((c.name.to_string(), t));
                }
            }
            RelKind::Derived(cols) => {
                for (i, (n, ty)) in cols.iter().enumerate() {
                    items.push((
                        n.clone(),
                        tx(format!("\"{}\".\"c{i}\"", rel.alias), ty.clone()),
                    ));
                }
            }
        }
    }

    /// A store column, or a path into it, of the table reference `alias`.
    fn store_column(&self, alias: &str, c: &Column, fields: &[String]) -> Tx {
        let mut ty = c.ty.clone();
        let mut path = vec![c.name.to_string()];
        for f in fields {
            let (_, name, t) = ty.field(f).expect("checked by the caller");
            path.push(name.to_string());
            ty = t.clone();
        }
        let i = self.path_index(path, ty.clone(), c.source);
        tx(format!("\"{alias}\".\"p{i}\""), ty)
    }

    // ---------------------------------------------------------------------------------------
    // Names

    fn resolve(
        &self,
        parts: &[ast::Ident],
        scope: &Scope,
        span: sqlparser::tokenizer::Span,
    ) -> Result<Tx, PlanError> {
        let lower: Vec<String> = parts.iter().map(ident_name).collect();
        // A lambda parameter.
        let mut sc = Some(scope);
        while let Some(s) = sc {
            if let Some((_, sql, ty)) = s.vars.iter().rev().find(|(n, _, _)| *n == lower[0]) {
                return self.fields(tx(sql.clone(), ty.clone()), &parts[1..]);
            }
            // A qualified column.
            if lower.len() >= 2 {
                if let Some(rel) = s.rels.iter().find(|r| r.name.as_deref() == Some(&lower[0])) {
                    return self.rel_column(rel, &parts[1..], true);
                }
            }
            // An unqualified column.
            let found: Vec<&Rel> = s.rels.iter().filter(|r| rel_has(r, &lower[0])).collect();
            match found.as_slice() {
                [rel] => return self.rel_column(rel, parts, false),
                [] => {}
                _ => {
                    return Err(at(
                        span,
                        format!("Column '{}' is ambiguous", parts[0].value),
                    ))
                }
            }
            sc = s.parent;
        }
        Err(at(
            span,
            format!(
                "Column '{}' cannot be resolved",
                parts
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".")
            ),
        ))
    }

    fn rel_column(
        &self,
        rel: &Rel,
        parts: &[ast::Ident],
        qualified: bool,
    ) -> Result<Tx, PlanError> {
        let name = ident_name(&parts[0]);
        match &rel.kind {
            RelKind::Store => {
                let c = columns()
                    .into_iter()
                    .find(|c| c.name == name)
                    .ok_or_else(|| {
                        at(
                            parts[0].span,
                            format!(
                                "Column '{}' cannot be resolved",
                                if qualified {
                                    format!(
                                        "{}.{}",
                                        rel.name.clone().unwrap_or_default(),
                                        parts[0].value
                                    )
                                } else {
                                    parts[0].value.clone()
                                }
                            ),
                        )
                    })?;
                // Walk as far as the row fields go; anything after is an error.
                let mut ty = c.ty.clone();
                let mut fields = Vec::new();
                for p in &parts[1..] {
                    match ty.field(&p.value) {
                        Some((_, n, t)) => {
                            fields.push(n.to_string());
                            ty = t.clone();
                        }
                        None => {
                            return Err(at(
                                p.span,
                                format!("Column '{}' cannot be resolved", p.value),
                            ))
                        }
                    }
                }
                Ok(self.store_column(&rel.alias, &c, &fields))
            }
            RelKind::Derived(cols) => {
                let (i, (_, ty)) = cols
                    .iter()
                    .enumerate()
                    .find(|(_, (n, _))| n.eq_ignore_ascii_case(&name))
                    .ok_or_else(|| {
                        at(
                            parts[0].span,
                            format!("Column '{}' cannot be resolved", parts[0].value),
                        )
                    })?;
                let base = tx(format!("\"{}\".\"c{i}\"", rel.alias), ty.clone());
                self.fields(base, &parts[1..])
            }
        }
    }

    fn fields(&self, mut t: Tx, parts: &[ast::Ident]) -> Result<Tx, PlanError> {
        for p in parts {
            let (_, name, fty) = t
                .ty
                .field(&p.value)
                .ok_or_else(|| at(p.span, format!("Column '{}' cannot be resolved", p.value)))?;
            t = tx(
                format!("lk_field({}, {})", t.sql, sql_str(name)),
                fty.clone(),
            );
        }
        Ok(t)
    }

    // ---------------------------------------------------------------------------------------
    // Expressions

    fn expr(&self, e: &Expr, scope: &Scope) -> Result<Tx, PlanError> {
        use LakeType::*;
        Ok(match e {
            Expr::Identifier(i) => {
                if i.quote_style.is_none() {
                    match ident_name(i).as_str() {
                        "current_timestamp" | "now" => {
                            return Ok(tx("lk_current_timestamp()", TimestampTz))
                        }
                        "current_date" => {
                            return Ok(tx("lk_date(lk_current_timestamp())", Date))
                        }
                        _ => {}
                    }
                }
                self.resolve(std::slice::from_ref(i), scope, i.span)?
            }
            Expr::CompoundIdentifier(parts) => self.resolve(parts, scope, parts[0].span)?,
            Expr::CompoundFieldAccess { root, access_chain } => {
                let mut t = self.expr(root, scope)?;
                for a in access_chain {
                    t = match a {
                        ast::AccessExpr::Dot(Expr::Identifier(i)) => {
                            self.fields(t, std::slice::from_ref(i))?
                        }
                        ast::AccessExpr::Dot(other) => {
                            return Err(invalid(format!("cannot dereference {other}")))
                        }
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            let k = self.expr(index, scope)?;
                            self.subscript(t, k)?
                        }
                        ast::AccessExpr::Subscript(_) => {
                            return Err(invalid("array slices are not supported"))
                        }
                    };
                }
                t
            }
            Expr::Value(v) => self.literal(&v.value, v.span)?,
            Expr::TypedString(ts) => {
                let s = match &ts.value.value {
                    Value::SingleQuotedString(s) => s.clone(),
                    _ => return Err(invalid("bad typed literal")),
                };
                match &ts.data_type {
                    DataType::Timestamp(_, _) => {
                        let ms = time_literal(&s).ok_or_else(|| {
                            invalid(format!("Value cannot be cast to timestamp: {s}"))
                        })?;
                        tx(ms.to_string(), Timestamp)
                    }
                    DataType::Date => {
                        let d = chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
                            invalid(format!("Value cannot be cast to date: {s}"))
                        })?;
                        let days = d
                            .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"))
                            .num_days();
                        tx(days.to_string(), Date)
                    }
                    DataType::JSON => tx(format!("lk_json_parse({})", sql_str(&s)), Json),
                    other => return Err(invalid(format!("Unknown type: {other}"))),
                }
            }
            Expr::Nested(inner) => {
                let t = self.expr(inner, scope)?;
                tx(format!("({})", t.sql), t.ty)
            }
            Expr::IsNull(x) => tx(format!("({} IS NULL)", self.expr(x, scope)?.sql), Boolean),
            Expr::IsNotNull(x) => {
                tx(format!("({} IS NOT NULL)", self.expr(x, scope)?.sql), Boolean)
            }
            Expr::IsTrue(x) => tx(format!("({} IS 1)", self.bool_expr(x, scope)?), Boolean),
            Expr::IsFalse(x) => tx(format!("({} IS 0)", self.bool_expr(x, scope)?), Boolean),
            Expr::IsNotTrue(x) => {
                tx(format!("({} IS NOT 1)", self.bool_expr(x, scope)?), Boolean)
            }
            Expr::IsNotFalse(x) => {
                tx(format!("({} IS NOT 0)", self.bool_expr(x, scope)?), Boolean)
            }
            Expr::IsDistinctFrom(a, b) => {
                let (a, b) = self.compare_pair(a, b, scope, "IS DISTINCT FROM")?;
                tx(format!("({} IS NOT {})", a.sql, b.sql), Boolean)
            }
            Expr::IsNotDistinctFrom(a, b) => {
                let (a, b) = self.compare_pair(a, b, scope, "IS NOT DISTINCT FROM")?;
                tx(format!("({} IS {})", a.sql, b.sql), Boolean)
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let x = self.expr(expr, scope)?;
                let mut items = Vec::new();
                for item in list {
                    let v = self.compared_with(&x, item, scope, "IN")?;
                    items.push(v.sql);
                }
                tx(
                    format!(
                        "({} {}IN ({}))",
                        x.sql,
                        if *negated { "NOT " } else { "" },
                        items.join(", ")
                    ),
                    Boolean,
                )
            }
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let x = self.expr(expr, scope)?;
                let q = self.query(subquery, Some(scope))?;
                if q.cols.len() != 1 {
                    return Err(invalid("Multiple columns returned by subquery are not yet supported"));
                }
                if !x.ty.comparable(&q.cols[0].1) {
                    return Err(invalid(format!(
                        "value and result of subquery must be of the same type for IN expression: {} vs {}",
                        x.ty, q.cols[0].1
                    )));
                }
                tx(
                    format!(
                        "({} {}IN (SELECT \"c0\" FROM ({})))",
                        x.sql,
                        if *negated { "NOT " } else { "" },
                        q.sql
                    ),
                    Boolean,
                )
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.expr(expr, scope)?;
                let lo = self.compared_with(&x, low, scope, "BETWEEN")?;
                let hi = self.compared_with(&x, high, scope, "BETWEEN")?;
                tx(
                    format!(
                        "({} {}BETWEEN {} AND {})",
                        x.sql,
                        if *negated { "NOT " } else { "" },
                        lo.sql,
                        hi.sql
                    ),
                    Boolean,
                )
            }
            Expr::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Err(invalid("LIKE ANY is not supported"));
                }
                let x = self.expr(expr, scope)?;
                let p = self.expr(pattern, scope)?;
                for t in [&x, &p] {
                    if !matches!(t.ty, Varchar | Unknown) {
                        return Err(invalid(format!(
                            "Left side of LIKE expression must evaluate to a varchar (actual: {})",
                            t.ty
                        )));
                    }
                }
                let call = match escape_char {
                    Some(Value::SingleQuotedString(c)) => {
                        format!("lk_like({}, {}, {})", x.sql, p.sql, sql_str(c))
                    }
                    Some(_) => return Err(invalid("ESCAPE must be a string")),
                    None => format!("lk_like({}, {})", x.sql, p.sql),
                };
                tx(
                    if *negated {
                        format!("(NOT {call})")
                    } else {
                        call
                    },
                    Boolean,
                )
            }
            Expr::ILike { .. } => return Err(invalid("ILIKE is not Trino SQL; use lower(x) LIKE")),
            Expr::SimilarTo { .. } | Expr::RLike { .. } => {
                return Err(invalid("use regexp_like"))
            }
            Expr::UnaryOp { op, expr } => {
                let x = self.expr(expr, scope)?;
                match op {
                    UnaryOperator::Not => {
                        expect_boolean(&x, "NOT")?;
                        tx(format!("(NOT {})", x.sql), Boolean)
                    }
                    UnaryOperator::Minus => {
                        if !x.ty.is_numeric() {
                            return Err(invalid(format!("Cannot negate {}", x.ty)));
                        }
                        tx(format!("(-{})", x.sql), x.ty)
                    }
                    UnaryOperator::Plus => x,
                    other => return Err(invalid(format!("operator {other} is not supported"))),
                }
            }
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right, scope)?,
            Expr::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if format.is_some() {
                    return Err(invalid("CAST ... FORMAT is not supported"));
                }
                let x = self.expr(expr, scope)?;
                let to = lake_type(data_type)?;
                let try_ = matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast);
                if matches!(kind, ast::CastKind::DoubleColon) {
                    return Err(invalid("'::' casts are not Trino SQL; use CAST(x AS type)"));
                }
                cast(x, to, try_)?
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let mut sql = String::from("(CASE");
                let op = operand.as_ref().map(|o| self.expr(o, scope)).transpose()?;
                if let Some(o) = &op {
                    write!(sql, " {}", o.sql).expect("string");
                }
                let mut ty = LakeType::Unknown;
                for cw in conditions {
                    let c = match &op {
                        Some(o) => self.compared_with(o, &cw.condition, scope, "CASE")?,
                        None => {
                            let c = self.expr(&cw.condition, scope)?;
                            expect_boolean(&c, "WHEN")?;
                            c
                        }
                    };
                    let r = self.expr(&cw.result, scope)?;
                    ty = ty.unify(&r.ty).ok_or_else(|| {
                        invalid(format!("All CASE results must be the same type: {ty}, {}", r.ty))
                    })?;
                    write!(sql, " WHEN {} THEN {}", c.sql, r.sql).expect("string");
                }
                if let Some(e) = else_result {
                    let r = self.expr(e, scope)?;
                    ty = ty.unify(&r.ty).ok_or_else(|| {
                        invalid(format!("All CASE results must be the same type: {ty}, {}", r.ty))
                    })?;
                    write!(sql, " ELSE {}", r.sql).expect("string");
                }
                sql.push_str(" END)");
                tx(sql, ty)
            }
            Expr::Subquery(q) => {
                let out = self.query(q, Some(scope))?;
                if out.cols.len() != 1 {
                    return Err(invalid("Multiple columns returned by subquery are not yet supported"));
                }
                tx(
                    format!("(SELECT \"c0\" FROM ({}))", out.sql),
                    out.cols[0].1.clone(),
                )
            }
            Expr::Exists { subquery, negated } => {
                let out = self.query(subquery, Some(scope))?;
                tx(
                    format!(
                        "({}EXISTS ({}))",
                        if *negated { "NOT " } else { "" },
                        out.sql
                    ),
                    Boolean,
                )
            }
            Expr::Function(f) => self.function(f, scope)?,
            Expr::Interval(_) => {
                return Err(invalid(
                    "INTERVAL is not supported in CloudTrail Lake queries; use date_add(unit, value, timestamp)",
                ))
            }
            Expr::Array(a) => {
                let mut elems = Vec::new();
                let mut ty = Unknown;
                for e in &a.elem {
                    let t = self.expr(e, scope)?;
                    ty = ty.unify(&t.ty).ok_or_else(|| invalid("ARRAY elements must have one type"))?;
                    elems.push(t);
                }
                let parts: Vec<String> = elems.iter().map(json_form).collect();
                tx(format!("json_array({})", parts.join(", ")), Array(Box::new(ty)))
            }
            Expr::Extract { field, expr, .. } => {
                let x = self.expr(expr, scope)?;
                let f = match field {
                    ast::DateTimeField::Year => "lk_year",
                    ast::DateTimeField::Month => "lk_month",
                    ast::DateTimeField::Day => "lk_day",
                    ast::DateTimeField::Hour => "lk_hour",
                    ast::DateTimeField::Minute => "lk_minute",
                    ast::DateTimeField::Second => "lk_second",
                    ast::DateTimeField::Quarter => "lk_quarter",
                    ast::DateTimeField::Week(_) => "lk_week",
                    ast::DateTimeField::DayOfWeek | ast::DateTimeField::Dow => "lk_day_of_week",
                    ast::DateTimeField::DayOfYear | ast::DateTimeField::Doy => "lk_day_of_year",
                    other => return Err(invalid(format!("EXTRACT {other} is not supported"))),
                };
                tx(format!("{f}({})", time_arg(&x)?), Bigint)
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let x = self.expr(expr, scope)?;
                let from = substring_from
                    .as_ref()
                    .map(|e| self.expr(e, scope))
                    .transpose()?
                    .map(|t| t.sql)
                    .unwrap_or_else(|| "1".into());
                match substring_for {
                    Some(n) => tx(
                        format!("lk_substr({}, {from}, {})", x.sql, self.expr(n, scope)?.sql),
                        Varchar,
                    ),
                    None => tx(format!("lk_substr({}, {from})", x.sql), Varchar),
                }
            }
            Expr::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                if trim_what.is_some() || trim_characters.is_some() {
                    return Err(invalid("trim with characters is not supported"));
                }
                let x = self.expr(expr, scope)?;
                let f = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "lk_ltrim",
                    Some(ast::TrimWhereField::Trailing) => "lk_rtrim",
                    _ => "lk_trim",
                };
                tx(format!("{f}({})", x.sql), Varchar)
            }
            Expr::Position { expr, r#in } => {
                let sub = self.expr(expr, scope)?;
                let s = self.expr(r#in, scope)?;
                tx(format!("lk_strpos({}, {})", s.sql, sub.sql), Bigint)
            }
            Expr::Lambda(_) => {
                return Err(invalid("a lambda expression is only allowed as a function argument"))
            }
            Expr::Tuple(_) => return Err(invalid("row constructors are not supported")),
            other => {
                return Err(invalid(format!(
                    "the expression '{other}' is not supported in CloudTrail Lake SQL"
                )))
            }
        })
    }

    fn bool_expr(&self, e: &Expr, scope: &Scope) -> Result<String, PlanError> {
        let t = self.expr(e, scope)?;
        expect_boolean(&t, "IS TRUE")?;
        Ok(t.sql)
    }

    fn literal(&self, v: &Value, span: sqlparser::tokenizer::Span) -> Result<Tx, PlanError> {
        use LakeType::*;
        Ok(match v {
            Value::Number(n, _) => {
                if n.contains(['.', 'e', 'E']) {
                    let x: f64 = n.parse().map_err(|_| invalid(format!("bad number {n}")))?;
                    tx(format!("{x:?}"), Double)
                } else {
                    match n.parse::<i64>() {
                        Ok(i) => tx(i.to_string(), Bigint),
                        Err(_) => return Err(at(span, format!("Invalid numeric literal: {n}"))),
                    }
                }
            }
            Value::SingleQuotedString(s) => tx(sql_str(s), Varchar),
            Value::Boolean(b) => tx(if *b { "1" } else { "0" }, Boolean),
            Value::Null => tx("NULL", Unknown),
            Value::DoubleQuotedString(s) => {
                return Err(at(span, format!("Column '{s}' cannot be resolved")))
            }
            other => return Err(at(span, format!("literal {other} is not supported"))),
        })
    }

    /// `b` translated to be compared with the already-translated `a`: a string literal next to a
    /// timestamp is read as a time (§6.5); otherwise the types must be comparable.
    fn compared_with(&self, a: &Tx, b: &Expr, scope: &Scope, what: &str) -> Result<Tx, PlanError> {
        if matches!(a.ty, LakeType::Timestamp | LakeType::TimestampTz) {
            if let Some(s) = string_literal(b) {
                let ms = time_literal(&s).ok_or_else(|| {
                    invalid(format!(
                        "'{s}' cannot be compared with a timestamp: write it as 'YYYY-MM-DD', \
                         'YYYY-MM-DD HH:MM:SS[.fff]' or 'YYYY-MM-DDTHH:MM:SS[.fff]Z' (UTC)"
                    ))
                })?;
                return Ok(tx(ms.to_string(), a.ty.clone()));
            }
        }
        let t = self.expr(b, scope)?;
        if !a.ty.comparable(&t.ty) {
            return Err(invalid(format!(
                "Cannot apply operator: {} {what} {}",
                a.ty, t.ty
            )));
        }
        Ok(t)
    }

    fn compare_pair(
        &self,
        a: &Expr,
        b: &Expr,
        scope: &Scope,
        what: &str,
    ) -> Result<(Tx, Tx), PlanError> {
        if string_literal(a).is_some() && string_literal(b).is_none() {
            let bt = self.expr(b, scope)?;
            let at_ = self.compared_with(&bt, a, scope, what)?;
            return Ok((at_, bt));
        }
        let at_ = self.expr(a, scope)?;
        let bt = self.compared_with(&at_, b, scope, what)?;
        Ok((at_, bt))
    }

    fn binary(
        &self,
        l: &Expr,
        op: &BinaryOperator,
        r: &Expr,
        scope: &Scope,
    ) -> Result<Tx, PlanError> {
        use LakeType::*;
        let cmp = match op {
            BinaryOperator::Eq => Some("="),
            BinaryOperator::NotEq => Some("<>"),
            BinaryOperator::Lt => Some("<"),
            BinaryOperator::LtEq => Some("<="),
            BinaryOperator::Gt => Some(">"),
            BinaryOperator::GtEq => Some(">="),
            _ => None,
        };
        if let Some(o) = cmp {
            let (a, b) = self.compare_pair(l, r, scope, o)?;
            if matches!(a.ty, Map | Row(_)) && o != "=" && o != "<>" {
                return Err(invalid(format!(
                    "Cannot apply operator: {} {o} {}",
                    a.ty, b.ty
                )));
            }
            return Ok(tx(format!("({} {o} {})", a.sql, b.sql), Boolean));
        }
        let a = self.expr(l, scope)?;
        let b = self.expr(r, scope)?;
        Ok(match op {
            BinaryOperator::And | BinaryOperator::Or => {
                expect_boolean(&a, &op.to_string())?;
                expect_boolean(&b, &op.to_string())?;
                tx(format!("({} {op} {})", a.sql, b.sql), Boolean)
            }
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo => {
                if !a.ty.is_numeric() || !b.ty.is_numeric() {
                    return Err(invalid(format!(
                        "Cannot apply operator: {} {op} {}",
                        a.ty, b.ty
                    )));
                }
                let ty = a.ty.unify(&b.ty).unwrap_or(Bigint);
                let ty = if ty == Unknown { Bigint } else { ty };
                let sql = match op {
                    BinaryOperator::Divide => format!("lk_div({}, {})", a.sql, b.sql),
                    BinaryOperator::Modulo => format!("lk_mod({}, {})", a.sql, b.sql),
                    _ => format!("({} {op} {})", a.sql, b.sql),
                };
                tx(sql, ty)
            }
            BinaryOperator::StringConcat => {
                for t in [&a, &b] {
                    if !matches!(t.ty, Varchar | Unknown) {
                        return Err(invalid(format!(
                            "Cannot apply operator: {} || {}",
                            a.ty, b.ty
                        )));
                    }
                }
                tx(format!("({} || {})", a.sql, b.sql), Varchar)
            }
            other => return Err(invalid(format!("operator {other} is not supported"))),
        })
    }

    fn subscript(&self, t: Tx, k: Tx) -> Result<Tx, PlanError> {
        match &t.ty {
            LakeType::Map => {
                if !matches!(k.ty, LakeType::Varchar | LakeType::Unknown) {
                    return Err(invalid(format!("map key must be varchar, not {}", k.ty)));
                }
                Ok(tx(
                    format!("lk_map_subscript({}, {})", t.sql, k.sql),
                    LakeType::Varchar,
                ))
            }
            LakeType::Array(e) => {
                if !matches!(k.ty, LakeType::Bigint) {
                    return Err(invalid(format!("array index must be bigint, not {}", k.ty)));
                }
                Ok(tx(
                    format!("lk_array_subscript({}, {})", t.sql, k.sql),
                    (**e).clone(),
                ))
            }
            LakeType::Json => Err(invalid("use json_extract to read into JSON")),
            other => Err(invalid(format!("Cannot use subscript on {other}"))),
        }
    }

    fn function(&self, f: &ast::Function, scope: &Scope) -> Result<Tx, PlanError> {
        use LakeType::*;
        let name_ident = match f.name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => i.clone(),
            _ => return Err(invalid("bad function name")),
        };
        let name = ident_name(&name_ident);
        let span = name_ident.span;
        if f.filter.is_some() || f.null_treatment.is_some() || !f.within_group.is_empty() {
            return Err(at(
                span,
                "FILTER, IGNORE NULLS and WITHIN GROUP are not supported",
            ));
        }
        let (distinct, raw_args): (bool, Vec<&FunctionArg>) = match &f.args {
            FunctionArguments::None => (false, Vec::new()),
            FunctionArguments::List(l) => {
                if !l.clauses.is_empty() {
                    return Err(at(span, "ORDER BY inside a function call is not supported"));
                }
                (
                    matches!(
                        l.duplicate_treatment,
                        Some(ast::DuplicateTreatment::Distinct)
                    ),
                    l.args.iter().collect(),
                )
            }
            FunctionArguments::Subquery(_) => return Err(at(span, "bad function call")),
        };
        let mut star = false;
        let mut exprs: Vec<&Expr> = Vec::new();
        for a in &raw_args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => exprs.push(e),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                _ => return Err(at(span, "named function arguments are not supported")),
            }
        }
        // Lambdas take their own path: their argument types come from the array.
        if matches!(
            name.as_str(),
            "transform" | "filter" | "any_match" | "all_match" | "none_match"
        ) {
            return self.lambda_call(&name, &exprs, scope, span);
        }
        let args: Vec<Tx> = exprs
            .iter()
            .map(|e| self.expr(e, scope))
            .collect::<Result<_, _>>()?;
        let window = match &f.over {
            Some(ast::WindowType::WindowSpec(w)) => Some(self.window(w, scope)?),
            Some(ast::WindowType::NamedWindow(_)) => {
                return Err(at(span, "named windows are not supported"))
            }
            None => None,
        };
        let bad = || {
            at(
                span,
                format!(
                    "Unexpected parameters ({}) for function {name}",
                    type_list(&args)
                ),
            )
        };
        let n = args.len();
        let a = |i: usize| args[i].sql.as_str();
        let is_str = |i: usize| matches!(args[i].ty, Varchar | Unknown);
        let is_int = |i: usize| matches!(args[i].ty, Bigint | Unknown);
        let distinct_kw = if distinct { "DISTINCT " } else { "" };
        // Aggregates and window functions.
        let agg: Option<Tx> = match name.as_str() {
            "count" if star && n == 0 => Some(tx("count(*)", Bigint)),
            "count" if n == 1 => Some(tx(format!("count({distinct_kw}{})", a(0)), Bigint)),
            "approx_distinct" if n == 1 || n == 2 => {
                Some(tx(format!("count(DISTINCT {})", a(0)), Bigint))
            }
            "sum" if n == 1 && args[0].ty.is_numeric() => Some(tx(
                format!("sum({distinct_kw}{})", a(0)),
                if args[0].ty == Double { Double } else { Bigint },
            )),
            "avg" if n == 1 && args[0].ty.is_numeric() => {
                Some(tx(format!("avg({distinct_kw}{})", a(0)), Double))
            }
            "min" | "max" if n == 1 => Some(tx(format!("{name}({})", a(0)), args[0].ty.clone())),
            "arbitrary" | "any_value" if n == 1 => {
                Some(tx(format!("lk_arbitrary({})", a(0)), args[0].ty.clone()))
            }
            "count_if" if n == 1 => Some(tx(format!("lk_count_if({})", a(0)), Bigint)),
            "bool_and" | "every" if n == 1 => Some(tx(format!("lk_bool_and({})", a(0)), Boolean)),
            "bool_or" if n == 1 => Some(tx(format!("lk_bool_or({})", a(0)), Boolean)),
            "max_by" | "min_by" if n == 2 => Some(tx(
                format!("lk_{name}({}, {})", a(0), a(1)),
                args[0].ty.clone(),
            )),
            "array_agg" if n == 1 => Some(tx(
                format!("json_group_array({})", json_form(&args[0])),
                Array(Box::new(args[0].ty.clone())),
            )),
            "approx_most_frequent" if n == 3 => Some(tx(
                format!("lk_approx_most_frequent({}, {}, {})", a(0), a(1), a(2)),
                Map,
            )),
            "row_number" | "rank" | "dense_rank" if n == 0 && window.is_some() => {
                Some(tx(format!("{name}()"), Bigint))
            }
            "percent_rank" | "cume_dist" if n == 0 && window.is_some() => {
                Some(tx(format!("{name}()"), Double))
            }
            "ntile" if n == 1 && window.is_some() => Some(tx(format!("ntile({})", a(0)), Bigint)),
            "lag" | "lead" | "first_value" | "last_value" | "nth_value"
                if n >= 1 && window.is_some() =>
            {
                let list: Vec<&str> = (0..n).map(a).collect();
                Some(tx(
                    format!("{name}({})", list.join(", ")),
                    args[0].ty.clone(),
                ))
            }
            _ => None,
        };
        if let Some(mut t) = agg {
            match window {
                Some(w) => {
                    if distinct {
                        return Err(at(span, "DISTINCT in a window function is not supported"));
                    }
                    t.sql = format!("{} OVER ({w})", t.sql);
                }
                None => t.sql = format!("{AGGREGATE}{}", t.sql),
            }
            return Ok(t);
        }
        if window.is_some() {
            return Err(at(span, format!("{name} is not a window function")));
        }
        if distinct || star {
            return Err(bad());
        }
        let call = |f: &str, ty: LakeType| -> Tx {
            let list: Vec<&str> = (0..n).map(a).collect();
            tx(format!("{f}({})", list.join(", ")), ty)
        };
        let time = |i: usize| -> Result<String, PlanError> { time_arg(&args[i]) };
        Ok(match (name.as_str(), n) {
            ("element_at", 2) => match &args[0].ty {
                Map if is_str(1) => tx(format!("lk_map_get({}, {})", a(0), a(1)), Varchar),
                Array(e) if is_int(1) => {
                    tx(format!("lk_array_get({}, {})", a(0), a(1)), (**e).clone())
                }
                _ => return Err(bad()),
            },
            ("cardinality", 1) if matches!(args[0].ty, Map | Array(_)) => {
                call("lk_cardinality", Bigint)
            }
            ("map_keys" | "map_values", 1) if args[0].ty == Map => {
                call(&format!("lk_{name}"), Array(Box::new(Varchar)))
            }
            ("contains", 2) => match &args[0].ty {
                Array(e) if e.comparable(&args[1].ty) => tx(
                    format!("lk_contains({}, {})", a(0), json_form(&args[1])),
                    Boolean,
                ),
                _ => return Err(bad()),
            },
            ("split", 2) if is_str(0) && is_str(1) => call("lk_split", Array(Box::new(Varchar))),
            ("strpos", 2) if is_str(0) && is_str(1) => call("lk_strpos", Bigint),
            ("substr" | "substring", 2 | 3) if is_str(0) => call("lk_substr", Varchar),
            ("lower" | "upper" | "trim" | "ltrim" | "rtrim" | "reverse", 1) if is_str(0) => {
                call(&format!("lk_{name}"), Varchar)
            }
            ("length", 1) if is_str(0) => call("lk_length", Bigint),
            ("replace", 2 | 3) if is_str(0) => call("lk_replace", Varchar),
            ("starts_with", 2) if is_str(0) && is_str(1) => call("lk_starts_with", Boolean),
            ("concat", _) if n >= 1 => {
                if args.iter().all(|t| matches!(t.ty, Varchar | Unknown)) {
                    call("lk_concat", Varchar)
                } else {
                    return Err(bad());
                }
            }
            ("regexp_like", 2) if is_str(0) && is_str(1) => call("lk_regexp_like", Boolean),
            ("regexp_extract", 2 | 3) if is_str(0) && is_str(1) => {
                call("lk_regexp_extract", Varchar)
            }
            ("regexp_replace", 2 | 3) if is_str(0) && is_str(1) => {
                call("lk_regexp_replace", Varchar)
            }
            ("json_extract_scalar", 2) if matches!(args[0].ty, Varchar | Json | Unknown) => {
                call("lk_json_extract_scalar", Varchar)
            }
            ("json_extract", 2) if matches!(args[0].ty, Varchar | Json | Unknown) => {
                call("lk_json_extract", Json)
            }
            ("json_parse", 1) if is_str(0) => call("lk_json_parse", Json),
            ("json_format", 1) if args[0].ty == Json => call("lk_json_format", Varchar),
            ("json_array_length", 1) => call("lk_json_array_length", Bigint),
            ("json_array_get", 2) => call("lk_json_array_get", Json),
            ("json_array_contains", 2) => call("lk_json_array_contains", Boolean),
            ("json_size", 2) => call("lk_json_size", Bigint),
            ("coalesce", _) if n >= 1 => {
                let mut ty = Unknown;
                for t in &args {
                    ty = ty.unify(&t.ty).ok_or_else(bad)?;
                }
                if n == 1 {
                    tx(a(0).to_string(), ty)
                } else {
                    call("coalesce", ty)
                }
            }
            ("nullif", 2) if args[0].ty.comparable(&args[1].ty) => {
                call("nullif", args[0].ty.clone())
            }
            ("if", 2 | 3) => {
                expect_boolean(&args[0], "if")?;
                let ty = if n == 3 {
                    args[1].ty.unify(&args[2].ty).ok_or_else(bad)?
                } else {
                    args[1].ty.clone()
                };
                let e = if n == 3 { a(2) } else { "NULL" };
                tx(
                    format!("(CASE WHEN {} THEN {} ELSE {e} END)", a(0), a(1)),
                    ty,
                )
            }
            ("greatest" | "least", _) if n >= 1 => {
                let mut ty = Unknown;
                for t in &args {
                    ty = ty.unify(&t.ty).ok_or_else(bad)?;
                }
                call(&format!("lk_{name}"), ty)
            }
            ("abs", 1) if args[0].ty.is_numeric() => call("abs", args[0].ty.clone()),
            ("round", 1 | 2) if args[0].ty.is_numeric() => {
                if args[0].ty == Bigint {
                    tx(a(0).to_string(), Bigint)
                } else {
                    call("lk_round", Double)
                }
            }
            ("floor" | "ceil" | "ceiling", 1) if args[0].ty.is_numeric() => call(
                &format!("lk_{}", if name == "ceiling" { "ceil" } else { &name }),
                args[0].ty.clone(),
            ),
            ("sha256", 1) if is_str(0) => call("lk_sha256", Varchar),
            ("to_hex", 1) => call("lk_to_hex", Varchar),
            ("md5", 1) => call("lk_md5", Varchar),
            (
                "year" | "month" | "day" | "hour" | "minute" | "second" | "millisecond" | "quarter"
                | "week" | "year_of_week" | "day_of_week" | "day_of_year" | "day_of_month" | "dow"
                | "doy" | "week_of_year" | "yow",
                1,
            ) => {
                let f = match name.as_str() {
                    "dow" => "day_of_week",
                    "doy" => "day_of_year",
                    "day_of_month" => "day",
                    "week_of_year" => "week",
                    "yow" => "year_of_week",
                    other => other,
                };
                tx(format!("lk_{f}({})", time(0)?), Bigint)
            }
            ("date_trunc", 2) if is_str(0) => {
                let ty = args[1].ty.clone();
                if !matches!(ty, Timestamp | TimestampTz) {
                    return Err(bad());
                }
                tx(format!("lk_date_trunc({}, {})", a(0), a(1)), ty)
            }
            ("date_add", 3) if is_str(0) && is_int(1) => {
                let ty = args[2].ty.clone();
                if !matches!(ty, Timestamp | TimestampTz) {
                    return Err(bad());
                }
                tx(format!("lk_date_add({}, {}, {})", a(0), a(1), a(2)), ty)
            }
            ("date_diff", 3) if is_str(0) => {
                if !matches!(args[1].ty, Timestamp | TimestampTz)
                    || !matches!(args[2].ty, Timestamp | TimestampTz)
                {
                    return Err(bad());
                }
                call("lk_date_diff", Bigint)
            }
            ("date", 1) => match args[0].ty {
                Timestamp | TimestampTz => tx(format!("lk_date({})", a(0)), Date),
                Varchar => tx(format!("lk_date(lk_cast_timestamp({}))", a(0)), Date),
                Date => args[0].clone(),
                _ => return Err(bad()),
            },
            ("to_iso8601", 1) => match args[0].ty {
                Timestamp => call("lk_to_iso8601", Varchar),
                TimestampTz => call("lk_to_iso8601_tz", Varchar),
                Date => tx(format!("lk_date_text({})", a(0)), Varchar),
                _ => return Err(bad()),
            },
            ("from_iso8601_timestamp", 1) if is_str(0) => {
                call("lk_from_iso8601_timestamp", TimestampTz)
            }
            ("from_unixtime", 1) if args[0].ty.is_numeric() => {
                call("lk_from_unixtime", TimestampTz)
            }
            ("to_unixtime", 1) => tx(format!("lk_to_unixtime({})", time(0)?), Double),
            ("date_format", 2) if is_str(1) => {
                tx(format!("lk_date_format({}, {})", time(0)?, a(1)), Varchar)
            }
            ("current_timestamp" | "now", 0) => tx("lk_current_timestamp()", TimestampTz),
            ("typeof", 1) => tx(sql_str(&args[0].ty.to_string()), Varchar),
            _ => {
                if KNOWN_FUNCTIONS.contains(&name.as_str()) {
                    return Err(bad());
                }
                return Err(at(span, format!("Function '{name}' not registered")));
            }
        })
    }

    fn window(&self, w: &ast::WindowSpec, scope: &Scope) -> Result<String, PlanError> {
        if w.window_name.is_some() {
            return Err(invalid("named windows are not supported"));
        }
        let mut parts = Vec::new();
        if !w.partition_by.is_empty() {
            let keys: Vec<String> = w
                .partition_by
                .iter()
                .map(|e| self.expr(e, scope).map(|t| t.sql))
                .collect::<Result<_, _>>()?;
            parts.push(format!("PARTITION BY {}", keys.join(", ")));
        }
        if !w.order_by.is_empty() {
            let mut keys = Vec::new();
            for o in &w.order_by {
                let t = self.expr(&o.expr, scope)?;
                keys.push(order_key(&t.sql, &o.options));
            }
            parts.push(format!("ORDER BY {}", keys.join(", ")));
        }
        if let Some(f) = &w.window_frame {
            let bound = |b: &ast::WindowFrameBound| -> Result<String, PlanError> {
                let offset = |e: &Option<Box<Expr>>, dir: &str| -> Result<String, PlanError> {
                    match e {
                        None => Ok(format!("UNBOUNDED {dir}")),
                        Some(e) => match ordinal(e) {
                            Some(n) => Ok(format!("{n} {dir}")),
                            None => Err(invalid(
                                "a window frame offset must be a non-negative integer",
                            )),
                        },
                    }
                };
                match b {
                    ast::WindowFrameBound::CurrentRow => Ok("CURRENT ROW".into()),
                    ast::WindowFrameBound::Preceding(e) => offset(e, "PRECEDING"),
                    ast::WindowFrameBound::Following(e) => offset(e, "FOLLOWING"),
                }
            };
            let units = match f.units {
                ast::WindowFrameUnits::Rows => "ROWS",
                ast::WindowFrameUnits::Range => "RANGE",
                ast::WindowFrameUnits::Groups => "GROUPS",
            };
            let start = bound(&f.start_bound)?;
            parts.push(match &f.end_bound {
                Some(end) => format!("{units} BETWEEN {start} AND {}", bound(end)?),
                None => format!("{units} {start}"),
            });
        }
        Ok(parts.join(" "))
    }

    /// `transform`, `filter` and the `*_match` functions: the lambda runs over the array's
    /// elements with `json_each`.
    fn lambda_call(
        &self,
        name: &str,
        exprs: &[&Expr],
        scope: &Scope,
        span: sqlparser::tokenizer::Span,
    ) -> Result<Tx, PlanError> {
        let [arr, Expr::Lambda(l)] = exprs else {
            return Err(at(
                span,
                format!("{name} takes an array and a lambda (x -> ...)"),
            ));
        };
        let arr = self.expr(arr, scope)?;
        let LakeType::Array(elem) = &arr.ty else {
            return Err(at(
                span,
                format!("Unexpected parameters ({}) for function {name}", arr.ty),
            ));
        };
        let params: Vec<&ast::Ident> = match &l.params {
            ast::OneOrManyWithParens::One(i) => vec![i],
            ast::OneOrManyWithParens::Many(v) => v.iter().collect(),
        };
        if params.len() != 1 {
            return Err(at(
                span,
                format!("the lambda of {name} takes one parameter"),
            ));
        }
        let each = self.fresh("e");
        let mut inner = Scope {
            parent: Some(scope),
            ..Default::default()
        };
        inner.vars.push((
            ident_name(params[0]),
            format!("\"{each}\".value"),
            (**elem).clone(),
        ));
        let body = self.expr(&l.body, &inner)?;
        let from = format!("json_each({}) AS \"{each}\"", arr.sql);
        let sql = match name {
            "transform" => format!(
                "(SELECT json_group_array({}) FROM (SELECT * FROM {from} ORDER BY \"{each}\".key) AS \"{each}\")",
                json_form(&body)
            ),
            "filter" => {
                expect_boolean(&body, "filter")?;
                let elem_tx = tx(format!("\"{each}\".value"), (**elem).clone());
                format!(
                    "(SELECT json_group_array({}) FROM (SELECT * FROM {from} ORDER BY \"{each}\".key) AS \"{each}\" WHERE {})",
                    json_form(&elem_tx),
                    body.sql
                )
            }
            "any_match" => {
                expect_boolean(&body, name)?;
                format!(
                    "(CASE WHEN EXISTS (SELECT 1 FROM {from} WHERE {b}) THEN 1 \
                     WHEN EXISTS (SELECT 1 FROM {from} WHERE ({b}) IS NULL) THEN NULL ELSE 0 END)",
                    b = body.sql
                )
            }
            "all_match" => {
                expect_boolean(&body, name)?;
                format!(
                    "(CASE WHEN EXISTS (SELECT 1 FROM {from} WHERE NOT ({b})) THEN 0 \
                     WHEN EXISTS (SELECT 1 FROM {from} WHERE ({b}) IS NULL) THEN NULL ELSE 1 END)",
                    b = body.sql
                )
            }
            _ => {
                expect_boolean(&body, name)?;
                format!(
                    "(CASE WHEN EXISTS (SELECT 1 FROM {from} WHERE {b}) THEN 0 \
                     WHEN EXISTS (SELECT 1 FROM {from} WHERE ({b}) IS NULL) THEN NULL ELSE 1 END)",
                    b = body.sql
                )
            }
        };
        let ty = match name {
            "transform" => LakeType::Array(Box::new(body.ty)),
            "filter" => arr.ty.clone(),
            _ => LakeType::Boolean,
        };
        Ok(tx(
            format!("(CASE WHEN {} IS NULL THEN NULL ELSE {sql} END)", arr.sql),
            ty,
        ))
    }
}

/// Marks an aggregate call in the SQL written (SQLite ignores the comment), so that the
/// GROUP BY check can tell what is aggregated.
const AGGREGATE: &str = "/*agg*/";

/// Walks SQL this module wrote, skipping string literals and subqueries: `on_agg(start, end)`
/// for each marked aggregate call (its whole span), `on_ref(start, end)` for each column
/// reference `"tN"."…"` outside them.
fn walk_sql(sql: &str, on_agg: &mut dyn FnMut(usize, usize), on_ref: &mut dyn FnMut(usize, usize)) {
    let b = sql.as_bytes();
    let mut i = 0;
    // The end of the balanced parentheses opening at or after `from`.
    let close = |from: usize| -> usize {
        let mut depth = 0usize;
        let mut j = from;
        while j < b.len() {
            match b[j] {
                b'\'' => {
                    j += 1;
                    while j < b.len() && b[j] != b'\'' {
                        j += 1;
                    }
                }
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return j + 1;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        b.len()
    };
    while i < b.len() {
        let rest = &sql[i..];
        if b[i] == b'\'' {
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
        } else if rest.starts_with(AGGREGATE) {
            let end = close(i);
            on_agg(i, end);
            i = end;
        } else if rest.starts_with("(SELECT ") {
            i = close(i);
        } else if let Some(after) = rest.strip_prefix("\"t") {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && after[digits..].starts_with("\".\"") {
                let name_start = 2 + digits + 3;
                let end = rest[name_start..]
                    .find('"')
                    .map_or(rest.len(), |e| name_start + e + 1);
                on_ref(i, i + end);
                i += end;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
}

fn has_aggregate(sql: &str) -> bool {
    let mut found = false;
    walk_sql(sql, &mut |_, _| found = true, &mut |_, _| {});
    found
}

/// Whether every column of the current SELECT's relations (`aliases`) that `sql` reads outside
/// an aggregate lies inside one of the GROUP BY expressions.
fn grouped(sql: &str, keys: &[String], aliases: &[&str]) -> bool {
    let mut covered: Vec<(usize, usize)> = Vec::new();
    for k in keys.iter().filter(|k| !k.is_empty()) {
        for (at, _) in sql.match_indices(k.as_str()) {
            covered.push((at, at + k.len()));
        }
    }
    let mut ok = true;
    walk_sql(sql, &mut |_, _| {}, &mut |start, end| {
        let alias = &sql[start + 1..];
        let alias = &alias[..alias.find('"').unwrap_or(0)];
        if aliases.contains(&alias) && !covered.iter().any(|(a, b)| *a <= start && end <= *b) {
            ok = false;
        }
    });
    ok
}

/// Functions Lake knows whose arguments were wrong (as opposed to an unknown name).
const KNOWN_FUNCTIONS: &[&str] = &[
    "element_at",
    "cardinality",
    "map_keys",
    "map_values",
    "contains",
    "split",
    "strpos",
    "substr",
    "substring",
    "lower",
    "upper",
    "trim",
    "ltrim",
    "rtrim",
    "reverse",
    "length",
    "replace",
    "starts_with",
    "concat",
    "regexp_like",
    "regexp_extract",
    "regexp_replace",
    "json_extract_scalar",
    "json_extract",
    "json_parse",
    "json_format",
    "json_array_length",
    "json_array_get",
    "json_array_contains",
    "json_size",
    "coalesce",
    "nullif",
    "if",
    "greatest",
    "least",
    "abs",
    "round",
    "floor",
    "ceil",
    "ceiling",
    "sha256",
    "to_hex",
    "md5",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "millisecond",
    "quarter",
    "week",
    "day_of_week",
    "dow",
    "day_of_year",
    "doy",
    "date_trunc",
    "date_add",
    "date_diff",
    "date",
    "to_iso8601",
    "from_iso8601_timestamp",
    "from_unixtime",
    "to_unixtime",
    "date_format",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "arbitrary",
    "approx_distinct",
    "count_if",
    "bool_and",
    "bool_or",
    "max_by",
    "min_by",
    "array_agg",
    "approx_most_frequent",
    "row_number",
    "rank",
    "dense_rank",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
];

/// The JSON form of a value for building arrays (types.rs): rows, maps, arrays and JSON are
/// embedded as JSON, booleans as true/false, the rest as they are.
fn json_form(t: &Tx) -> String {
    match t.ty {
        LakeType::Map | LakeType::Row(_) | LakeType::Array(_) | LakeType::Json => {
            format!("json({})", t.sql)
        }
        LakeType::Boolean => format!(
            "(CASE WHEN {s} IS NULL THEN NULL WHEN {s} THEN json('true') ELSE json('false') END)",
            s = t.sql
        ),
        _ => t.sql.clone(),
    }
}

fn time_arg(t: &Tx) -> Result<String, PlanError> {
    match t.ty {
        LakeType::Timestamp | LakeType::TimestampTz | LakeType::Unknown => Ok(t.sql.clone()),
        LakeType::Date => Ok(format!("({} * 86400000)", t.sql)),
        _ => Err(invalid(format!(
            "Unexpected parameters ({}) for a date function: it takes a timestamp",
            t.ty
        ))),
    }
}

fn string_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        Expr::Nested(inner) => string_literal(inner),
        _ => None,
    }
}

fn ordinal(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

fn expect_boolean(t: &Tx, what: &str) -> Result<(), PlanError> {
    if matches!(t.ty, LakeType::Boolean | LakeType::Unknown) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} clause must evaluate to a boolean: actual type {}",
            t.ty
        )))
    }
}

fn order_key(sql: &str, o: &ast::OrderByOptions) -> String {
    let dir = if o.asc == Some(false) { " DESC" } else { "" };
    let nulls = if o.nulls_first == Some(true) {
        " NULLS FIRST"
    } else {
        " NULLS LAST"
    };
    format!("{sql}{dir}{nulls}")
}

fn rel_has(r: &Rel, name: &str) -> bool {
    match &r.kind {
        RelKind::Store => columns().iter().any(|c| c.name == name),
        RelKind::Derived(cols) => cols.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)),
    }
}

fn rename(
    mut cols: Vec<(String, LakeType)>,
    alias: &Option<ast::TableAlias>,
) -> Vec<(String, LakeType)> {
    if let Some(a) = alias {
        for (c, n) in cols.iter_mut().zip(&a.columns) {
            c.0 = n.name.value.clone();
        }
    }
    cols
}

fn looks_like_store(id: &str) -> bool {
    let id = id.rsplit('/').next().unwrap_or(id);
    id.len() >= 8 && id.contains('-') && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The column name GetQueryResults gives an unaliased select item (lake-sql.md §6.2).
fn default_name(e: &Expr, n: usize) -> String {
    match e {
        Expr::Identifier(i) => i.value.clone(),
        Expr::CompoundIdentifier(parts) => {
            parts.last().map(|p| p.value.clone()).unwrap_or_default()
        }
        _ => format!("_col{n}"),
    }
}

fn lake_type(d: &DataType) -> Result<LakeType, PlanError> {
    use LakeType::*;
    Ok(match d {
        DataType::Varchar(_)
        | DataType::String(_)
        | DataType::Text
        | DataType::CharVarying(_)
        | DataType::CharacterVarying(_) => Varchar,
        DataType::BigInt(_)
        | DataType::Int(_)
        | DataType::Integer(_)
        | DataType::SmallInt(_)
        | DataType::TinyInt(_)
        | DataType::Int64 => Bigint,
        DataType::Double(_) | DataType::DoublePrecision | DataType::Real | DataType::Float(_) => {
            Double
        }
        DataType::Boolean | DataType::Bool => Boolean,
        DataType::Timestamp(_, tz) => match tz {
            ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz => TimestampTz,
            _ => Timestamp,
        },
        DataType::Date => Date,
        DataType::JSON => Json,
        other => return Err(invalid(format!("Unknown type: {other}"))),
    })
}

fn cast(x: Tx, to: LakeType, try_: bool) -> Result<Tx, PlanError> {
    use LakeType::*;
    let p = if try_ { "lk_try_cast_" } else { "lk_cast_" };
    if x.ty == to {
        return Ok(x);
    }
    let sql = match (&x.ty, &to) {
        (Unknown, _) => "NULL".to_string(),
        (_, Varchar) => format!("{p}varchar({}, {})", x.sql, sql_str(&x.ty.to_string())),
        (Varchar | Double | Boolean, Bigint) => format!("{p}bigint({})", x.sql),
        (Bigint, Double) => format!("CAST({} AS REAL)", x.sql),
        (Varchar | Boolean, Double) => format!("{p}double({})", x.sql),
        (Varchar | Bigint | Double, Boolean) => format!("{p}boolean({})", x.sql),
        (Varchar, Timestamp | TimestampTz) => format!("{p}timestamp({})", x.sql),
        (Timestamp | TimestampTz, Timestamp | TimestampTz) => x.sql.clone(),
        (Timestamp | TimestampTz, Date) => format!("lk_date({})", x.sql),
        (Date, Timestamp | TimestampTz) => format!("({} * 86400000)", x.sql),
        (Varchar, Date) => format!("lk_date({p}timestamp({}))", x.sql),
        (Varchar, Json) => format!("json_quote({})", x.sql),
        (Json, Bigint) => format!("{p}bigint(json_extract({}, '$'))", x.sql),
        (Json, Double) => format!("{p}double(json_extract({}, '$'))", x.sql),
        (Json, Boolean) => format!("{p}boolean(json_extract({}, '$'))", x.sql),
        (from, to) => return Err(invalid(format!("Cannot cast {from} to {to}"))),
    };
    Ok(tx(sql, to))
}

/// The SQL of one table reference to a store: the events of store `num` with the record paths
/// the statement reads (`paths`), as a subquery SQLite flattens into the statement, so that
/// conditions on `eventTime` use the time index and no record is inflated before the narrow
/// columns have filtered its event.
pub fn store_subquery(num: i64, paths: &[RecordPath]) -> String {
    // The event's number: a subquery needs one column even when the statement reads none
    // (`SELECT count(*)`).
    let mut cols = vec!["e.num AS \"_num\"".to_string()];
    let mut joins = String::new();
    let mut need_source = false;
    let mut need_name = false;
    for (i, p) in paths.iter().enumerate() {
        let expr = match narrow(p) {
            Some(Narrow::Time) => "e.event_time".to_string(),
            Some(Narrow::Source) => {
                need_source = true;
                cols.push(format!("e.source AS \"p{i}_id\""));
                "s_src.value".to_string()
            }
            Some(Narrow::Name) => {
                need_name = true;
                cols.push(format!("e.name AS \"p{i}_id\""));
                "s_name.value".to_string()
            }
            // The store's number ties the call to `l`: SQLite evaluates it only once the event's
            // log file is joined, and an event of another store is never read.
            None => format!("lk_col(e.num, e.log_file, e.offset, e.len, {i}, l.eds_num, {num})"),
        };
        cols.push(format!("{expr} AS \"p{i}\""));
    }
    if need_source {
        joins.push_str(" JOIN strings s_src ON s_src.num = e.source");
    }
    if need_name {
        joins.push_str(" JOIN strings s_name ON s_name.num = e.name");
    }
    format!(
        "(SELECT {} FROM events e JOIN log_files l ON l.num = e.log_file{joins} \
         WHERE lk_scan(l.eds_num, {num}, e.len))",
        cols.join(", ")
    )
}

/// The columns a store's narrow index rows hold, so no record is read for them.
enum Narrow {
    Time,
    Source,
    Name,
}

fn narrow(p: &RecordPath) -> Option<Narrow> {
    match (p.path.as_slice(), p.source) {
        ([c], Source::Field) if c == "eventtime" => Some(Narrow::Time),
        ([c], Source::Field) if c == "eventsource" => Some(Narrow::Source),
        ([c], Source::Field) if c == "eventname" => Some(Narrow::Name),
        _ => None,
    }
}

/// Puts each store's subquery in place of its marker.
pub fn finish(plan: &Plan) -> String {
    let mut out = String::with_capacity(plan.sql.len() * 2);
    let mut rest = plan.sql.as_str();
    while let Some(i) = rest.find('\u{1}') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after.find('\u{1}').expect("markers come in pairs");
        let marker = &after[..j];
        let num: i64 = marker
            .split_once(':')
            .and_then(|(_, n)| n.parse().ok())
            .expect("marker holds the store number");
        out.push_str(&store_subquery(num, &plan.paths));
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct OneStore;
    impl Catalog for OneStore {
        fn store(&self, id: &str) -> Option<i64> {
            (id == "5e2676f8-9fce-46ef-8142-3e36a94e6691").then_some(1)
        }
    }

    fn error(sql: &str) -> String {
        match plan(sql, &OneStore) {
            Err(PlanError::Invalid(m)) => m,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn positions_are_the_statement_as_written() {
        // Column 66 is `nothing` in the statement as typed, although the parser saw the store
        // ID with two quotes added before it.
        let sql = "SELECT eventName FROM 5e2676f8-9fce-46ef-8142-3e36a94e6691 WHERE nothing = 1";
        assert_eq!(&sql[65..72], "nothing");
        assert_eq!(error(sql), "line 1:66: Column 'nothing' cannot be resolved");
        let sql = "SELECT count(*)\nFROM 5e2676f8-9fce-46ef-8142-3e36a94e6691 a, 5e2676f8-9fce-46ef-8142-3e36a94e6691 b\nWHERE a.nope = b.eventName";
        // Line 3 has no store ID: its positions are untouched (9 is `nope`, the part that
        // does not resolve).
        assert_eq!(error(sql), "line 3:9: Column 'a.nope' cannot be resolved");
    }

    #[test]
    fn grouped_queries_read_only_grouped_columns_outside_aggregates() {
        let eds = "5e2676f8-9fce-46ef-8142-3e36a94e6691";
        for sql in [
            format!("SELECT eventName, count(*) FROM {eds}"),
            format!("SELECT eventName, eventSource, count(*) FROM {eds} GROUP BY eventName"),
            format!("SELECT eventTime FROM {eds} GROUP BY eventName"),
        ] {
            assert!(
                error(&sql)
                    .ends_with("must be an aggregate expression or appear in GROUP BY clause"),
                "{sql}"
            );
        }
        for sql in [
            format!("SELECT day_of_week(eventTime) + 1, count(*) FROM {eds} GROUP BY day_of_week(eventTime)"),
            format!("SELECT eventName, (SELECT count(*) FROM {eds}) FROM {eds}"),
            format!("SELECT upper(eventName), max(eventTime) FROM {eds} GROUP BY 1"),
            format!("SELECT 'x' AS k, count(*) FROM {eds} HAVING count(*) > 1"),
            format!("SELECT eventName, count(*) OVER (PARTITION BY eventSource) FROM {eds}"),
        ] {
            assert!(plan(&sql, &OneStore).is_ok(), "{sql}: {:?}", plan(&sql, &OneStore));
        }
    }

    #[test]
    fn store_ids_are_quoted_only_where_they_name_tables() {
        assert_eq!(
            quote_store_ids("SELECT 'x-y' FROM a-b JOIN 1c AS z WHERE n = 5-3 -- FROM c-d"),
            "SELECT 'x-y' FROM \"a-b\" JOIN \"1c\" AS z WHERE n = 5-3 -- FROM c-d"
        );
        assert_eq!(
            quote_store_ids("FROM x, 5e2676f8-9fce-46ef-8142-3e36a94e6691 y"),
            "FROM x, \"5e2676f8-9fce-46ef-8142-3e36a94e6691\" y"
        );
    }
}
