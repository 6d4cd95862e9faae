//! Trino's spelling of nested types in a cast, `CAST(x AS ARRAY(JSON))`,
//! `MAP(VARCHAR, BIGINT)`, `ROW(name VARCHAR, n BIGINT)`, which the
//! parser reads only with angle brackets: rewritten in the text, before
//! parsing, as `ARRAY<JSON>`, `MAP<VARCHAR, BIGINT>`,
//! `STRUCT<name VARCHAR, n BIGINT>`. Only a type after `AS` (and the types
//! inside it) is touched: `ARRAY[...]` and a function named `map(...)` are
//! not types. A text with nothing to rewrite is returned as it was.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// `sql` with Trino's parenthesised nested types in angle brackets.
pub fn angle_bracket_types(sql: &str) -> String {
    let Ok(mut tokens) = Tokenizer::new(&GenericDialect {}, sql)
        .with_unescape(false)
        .tokenize()
    else {
        return sql.to_string();
    };
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        if is_keyword(&tokens[i], Keyword::AS) {
            if let Some(at) = next_solid(&tokens, i + 1) {
                changed |= rewrite_type(&mut tokens, at).is_some();
            }
        }
        i += 1;
    }
    match changed {
        true => tokens.iter().map(ToString::to_string).collect(),
        false => sql.to_string(),
    }
}

/// Rewrite the nested type starting at `at`, if it is one spelled with
/// parentheses; the index after it.
fn rewrite_type(tokens: &mut [Token], at: usize) -> Option<usize> {
    let struct_word = match &tokens[at] {
        Token::Word(w) if w.quote_style.is_none() => match w.value.to_uppercase().as_str() {
            "ARRAY" | "MAP" => false,
            "ROW" => true,
            _ => return None,
        },
        _ => return None,
    };
    let open = next_solid(tokens, at + 1)?;
    if tokens[open] != Token::LParen {
        return None;
    }
    // The matching parenthesis, with the nested types inside rewritten.
    let mut depth = 0;
    let mut j = open + 1;
    let close = loop {
        match tokens.get(j)? {
            Token::LParen => depth += 1,
            Token::RParen if depth == 0 => break j,
            Token::RParen => depth -= 1,
            Token::Word(_) if depth == 0 => {
                if let Some(after) = rewrite_type(tokens, j) {
                    j = after;
                    continue;
                }
            }
            _ => {}
        }
        j += 1;
    };
    if struct_word {
        tokens[at] = Token::make_keyword("STRUCT");
    }
    tokens[open] = Token::Lt;
    tokens[close] = Token::Gt;
    Some(close + 1)
}

fn is_keyword(t: &Token, k: Keyword) -> bool {
    matches!(t, Token::Word(w) if w.keyword == k && w.quote_style.is_none())
}

/// The index of the first token from `from` that is not whitespace.
fn next_solid(tokens: &[Token], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&k| !matches!(tokens[k], Token::Whitespace(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_types_after_as_take_angle_brackets() {
        assert_eq!(
            angle_bracket_types("SELECT CAST(json_extract(x, '$.a') AS ARRAY(JSON)) FROM t"),
            "SELECT CAST(json_extract(x, '$.a') AS ARRAY<JSON>) FROM t"
        );
        assert_eq!(
            angle_bracket_types(
                "select cast(j as array(row(name varchar(10), n map(varchar, array(bigint))))) from t"
            ),
            "select cast(j as array<STRUCT<name varchar(10), n map<varchar, array<bigint>>>>) from t"
        );
    }

    #[test]
    fn arrays_functions_and_strings_are_left_as_written() {
        for sql in [
            "SELECT ARRAY[1, 2] AS a, map(ARRAY['k'], ARRAY[1]) FROM t",
            "SELECT 'AS ARRAY(JSON)', \"array\" AS x FROM t AS array",
            "SELECT CAST(x AS VARCHAR(5)), 'it''s' FROM t",
        ] {
            assert_eq!(angle_bracket_types(sql), sql);
        }
    }
}
