//! GetQueryResults cells (lake-sql.md §6.3, §6.4): every value a string, as Trino's CLI prints
//! it; make_golden.py `render` is the reference.

use crate::record::{civil_from_days, json};
use crate::types::LakeType;
use rusqlite::types::ValueRef;
use std::fmt::Write;

/// The cell for a value of type `ty` held in its SQLite representation ([`crate::types`]);
/// `None` for SQL NULL (which the caller renders as `""`).
pub fn render(v: ValueRef<'_>, ty: &LakeType) -> Option<String> {
    let mut out = String::new();
    match v {
        ValueRef::Null => return None,
        ValueRef::Integer(i) => match ty {
            LakeType::Double => out.push_str(&java_double(i as f64)),
            LakeType::Boolean => out.push_str(if i != 0 { "true" } else { "false" }),
            LakeType::Timestamp => write_timestamp(&mut out, i),
            LakeType::TimestampTz => {
                write_timestamp(&mut out, i);
                out.push_str(" UTC");
            }
            LakeType::Date => write_date(&mut out, i),
            _ => {
                let _ = write!(out, "{i}");
            }
        },
        ValueRef::Real(x) => match ty {
            LakeType::Bigint if x.fract() == 0.0 && x.abs() < 9.2e18 => {
                let _ = write!(out, "{}", x as i64);
            }
            LakeType::Boolean => out.push_str(if x != 0.0 { "true" } else { "false" }),
            LakeType::Timestamp | LakeType::TimestampTz | LakeType::Date => {
                return render(ValueRef::Integer(x as i64), ty)
            }
            _ => out.push_str(&java_double(x)),
        },
        ValueRef::Text(b) => {
            let s = String::from_utf8_lossy(b);
            match ty {
                LakeType::Map | LakeType::Row(_) | LakeType::Array(_) => {
                    let raw = json::trim(&s);
                    if json::kind(raw).is_some() {
                        write_nested(&mut out, raw, ty);
                    } else {
                        out.push_str(&s);
                    }
                }
                _ => return Some(s.into_owned()),
            }
        }
        ValueRef::Blob(b) => return Some(String::from_utf8_lossy(b).into_owned()),
    }
    Some(out)
}

/// Writes a nested value (an element, field or map value in its JSON form) as Trino prints it
/// inside a map, array or row: JSON null → `null`.
fn write_nested(out: &mut String, raw: &str, ty: &LakeType) {
    use json::Kind;
    let Some(kind) = json::kind(raw) else {
        out.push_str("null");
        return;
    };
    match (kind, ty) {
        (Kind::Null, _) => out.push_str("null"),
        (Kind::Number, LakeType::Double) => match raw.parse::<f64>() {
            Ok(x) => out.push_str(&java_double(x)),
            Err(_) => out.push_str(raw),
        },
        (Kind::Number, LakeType::Boolean) => {
            out.push_str(if raw.parse::<f64>().is_ok_and(|x| x != 0.0) {
                "true"
            } else {
                "false"
            })
        }
        (Kind::Number, LakeType::Timestamp | LakeType::TimestampTz | LakeType::Date) => {
            match raw
                .parse::<i64>()
                .ok()
                .or_else(|| raw.parse::<f64>().ok().map(|x| x as i64))
            {
                Some(n) if *ty == LakeType::Date => write_date(out, n),
                Some(n) => {
                    write_timestamp(out, n);
                    if *ty == LakeType::TimestampTz {
                        out.push_str(" UTC");
                    }
                }
                None => out.push_str(raw),
            }
        }
        (Kind::Object, LakeType::Row(fields)) => {
            out.push('{');
            for (n, (name, fty)) in fields.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push_str(name);
                out.push('=');
                match json::get_ci(raw, name) {
                    Some(v) => write_nested(out, v, fty),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        (Kind::Object, LakeType::Map | LakeType::Unknown) => {
            out.push('{');
            for (n, (k, v)) in json::members(raw).enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push_str(&json::decode_str(k));
                out.push('=');
                write_nested(out, v, &LakeType::Unknown);
            }
            out.push('}');
        }
        (Kind::Array, LakeType::Array(ety)) => {
            out.push('[');
            for (n, v) in json::elements(raw).enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_nested(out, v, ety);
            }
            out.push(']');
        }
        (Kind::Array, LakeType::Unknown) => {
            out.push('[');
            for (n, v) in json::elements(raw).enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_nested(out, v, &LakeType::Unknown);
            }
            out.push(']');
        }
        (Kind::String, _) => out.push_str(&json::decode_str(raw)),
        (Kind::Object | Kind::Array, _) => json::write_compact(out, raw),
        (Kind::Number | Kind::True | Kind::False, _) => out.push_str(raw),
    }
}

/// `YYYY-MM-DD HH:MM:SS.fff` of milliseconds since the epoch, UTC.
pub fn write_timestamp(out: &mut String, ms: i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    write_date(out, days);
    let _ = write!(
        out,
        " {:02}:{:02}:{:02}.{:03}",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    );
}

/// `YYYY-MM-DD` of days since the epoch.
pub fn write_date(out: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

/// Java's `Double.toString`, as Trino's CLI prints a double (make_golden.py `java_double`):
/// shortest round-trip digits; plain notation for 10^-3 ≤ |x| < 10^7, else `d.dddE±n`.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let a = x.abs();
    // Shortest round-trip digits in scientific form: d[.ddd]e<exp>.
    let sci = format!("{a:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let point = exp + 1; // value = 0.d1d2… × 10^point
    let nd = digits.len() as i64;
    if (1e-3..1e7).contains(&a) {
        if point <= 0 {
            return format!("{sign}0.{}{digits}", "0".repeat((-point) as usize));
        }
        if point >= nd {
            return format!("{sign}{digits}{}.0", "0".repeat((point - nd) as usize));
        }
        let (ip, fp) = digits.split_at(point as usize);
        return format!("{sign}{ip}.{fp}");
    }
    let (first, rest) = digits.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    format!("{sign}{first}.{rest}E{}", point - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::columns;

    fn r(v: ValueRef<'_>, ty: &LakeType) -> Option<String> {
        render(v, ty)
    }

    #[test]
    fn doubles_as_java_prints_them() {
        // Java's Double.toString (JDK 19+, shortest digits) for these values.
        let cases: &[(f64, &str)] = &[
            (2.5, "2.5"),
            (1.0e7, "1.0E7"),
            (1.0e-4, "1.0E-4"),
            (0.001, "0.001"),
            (9_999_999.0, "9999999.0"),
            (12_345_678.9, "1.23456789E7"),
            (100.0, "100.0"),
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1.0e21, "1.0E21"),
            (1.234e-5, "1.234E-5"),
            (123.456, "123.456"),
            (0.00123, "0.00123"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "5.0E-324"),
        ];
        for (x, want) in cases {
            assert_eq!(java_double(*x), *want, "{x:?}");
        }
    }

    #[test]
    fn scalars() {
        assert_eq!(r(ValueRef::Null, &LakeType::Varchar), None);
        assert_eq!(
            r(ValueRef::Text(b"abc"), &LakeType::Varchar).as_deref(),
            Some("abc")
        );
        assert_eq!(
            r(ValueRef::Text(b""), &LakeType::Varchar).as_deref(),
            Some("")
        );
        assert_eq!(
            r(ValueRef::Integer(96059), &LakeType::Bigint).as_deref(),
            Some("96059")
        );
        assert_eq!(
            r(ValueRef::Real(2.5), &LakeType::Double).as_deref(),
            Some("2.5")
        );
        assert_eq!(
            r(ValueRef::Integer(3), &LakeType::Double).as_deref(),
            Some("3.0")
        );
        assert_eq!(
            r(ValueRef::Integer(1), &LakeType::Boolean).as_deref(),
            Some("true")
        );
        assert_eq!(
            r(ValueRef::Integer(0), &LakeType::Boolean).as_deref(),
            Some("false")
        );
        // 2023-01-22 16:53:53 UTC = 1674406433 s
        assert_eq!(
            r(ValueRef::Integer(1_674_406_433_000), &LakeType::Timestamp).as_deref(),
            Some("2023-01-22 16:53:53.000")
        );
        assert_eq!(
            r(ValueRef::Integer(1_674_406_433_042), &LakeType::TimestampTz).as_deref(),
            Some("2023-01-22 16:53:53.042 UTC")
        );
        assert_eq!(
            r(ValueRef::Integer(-1), &LakeType::Timestamp).as_deref(),
            Some("1969-12-31 23:59:59.999")
        );
        assert_eq!(
            r(ValueRef::Integer(19_379), &LakeType::Date).as_deref(),
            Some("2023-01-22")
        );
        assert_eq!(
            r(ValueRef::Text(br#"{"a":[1,"x"]}"#), &LakeType::Json).as_deref(),
            Some(r#"{"a":[1,"x"]}"#)
        );
    }

    #[test]
    fn maps_arrays_rows() {
        assert_eq!(
            r(
                ValueRef::Text(
                    br#"{"bucketName":"b","z":null,"o":"{\"groupId\":\"sg-1\"}","e":""}"#
                ),
                &LakeType::Map
            )
            .as_deref(),
            Some(r#"{bucketName=b, z=null, o={"groupId":"sg-1"}, e=}"#)
        );
        assert_eq!(
            r(ValueRef::Text(b"{}"), &LakeType::Map).as_deref(),
            Some("{}")
        );
        let arr = LakeType::Array(Box::new(LakeType::Varchar));
        assert_eq!(
            r(ValueRef::Text(br#"["a","b",null]"#), &arr).as_deref(),
            Some("[a, b, null]")
        );
        assert_eq!(r(ValueRef::Text(b"[]"), &arr).as_deref(), Some("[]"));
        let dbl = LakeType::Array(Box::new(LakeType::Double));
        assert_eq!(
            r(ValueRef::Text(b"[1,2.5,1e7]"), &dbl).as_deref(),
            Some("[1.0, 2.5, 1.0E7]")
        );
        let cols = columns();
        let res = &cols.iter().find(|c| c.name == "resources").unwrap().ty;
        assert_eq!(
            r(
                ValueRef::Text(
                    br#"[{"accountid":"1","type":"AWS::S3::Bucket","arn":"arn:r","arnprefix":null},null]"#
                ),
                res
            )
            .as_deref(),
            Some("[{accountid=1, type=AWS::S3::Bucket, arn=arn:r, arnprefix=null}, null]")
        );
        let row = LakeType::Row(vec![
            ("creationdate".into(), LakeType::Timestamp),
            ("mfaauthenticated".into(), LakeType::Varchar),
            ("ok".into(), LakeType::Boolean),
            ("m".into(), LakeType::Map),
        ]);
        assert_eq!(
            r(
                ValueRef::Text(
                    br#"{"creationdate":1641237673000,"mfaauthenticated":"false","ok":true,"m":{"k":"v"}}"#
                ),
                &row
            )
            .as_deref(),
            Some("{creationdate=2022-01-03 19:21:13.000, mfaauthenticated=false, ok=true, m={k=v}}")
        );
        assert_eq!(
            r(ValueRef::Text(br#"{"creationdate":null}"#), &row).as_deref(),
            Some("{creationdate=null, mfaauthenticated=null, ok=null, m=null}")
        );
    }
}
