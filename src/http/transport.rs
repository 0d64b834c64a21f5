//! GraphQL over HTTP, the transport half: what a request asks for (GET
//! query string or POST JSON body), which media type the answer takes, and
//! the errors that stop a request before any GraphQL is looked at.
//!
//! Follows the GraphQL-over-HTTP specification as the `graphql-http` audit
//! suite checks it: `application/graphql-response+json` when the client
//! accepts it, else `application/json` (also for `*/*` or no `Accept`);
//! POST bodies only as `application/json` (anything else, `text/plain`
//! included, is 415, so a cross-site form can never post a mutation);
//! `null` parameters mean absent; wrongly typed parameters are 400.

use serde_json::{Map, Value};

use crate::gate::Params;

/// The media type a response is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: request errors get 4xx statuses.
    GraphQLResponse,
    /// `application/json`: every GraphQL response is 200.
    Json,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from an `Accept` header; `None` when the
/// client accepts neither (406). The highest quality wins; on a tie, the
/// GraphQL media type. `*/*` and `application/*` mean `application/json`.
pub fn negotiate(accept: Option<&str>) -> Option<MediaType> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else { return Some(MediaType::Json) };
    let mut best: Option<(u32, MediaType)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut quality = 1000;
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                quality = value.trim().parse::<f32>().map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u32);
            }
        }
        let candidate = match media.as_str() {
            "application/graphql-response+json" => MediaType::GraphQLResponse,
            "application/json" | "application/*" | "*/*" => MediaType::Json,
            _ => continue,
        };
        if quality == 0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((q, current)) => {
                quality > q || (quality == q && candidate == MediaType::GraphQLResponse && current != candidate)
            }
        };
        if better {
            best = Some((quality, candidate));
        }
    }
    best.map(|(_, media)| media)
}

/// Whether a POST's `Content-Type` is JSON in UTF-8 (the only body taken).
pub fn is_json_body(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else { return false };
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|parameter| match parameter.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

/// One request or a batch of them (a JSON array of requests).
#[derive(Debug, PartialEq)]
pub enum Incoming {
    Single(Params),
    Batch(Vec<Params>),
}

/// Why a request is not GraphQL over HTTP at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("the request body is empty")]
    EmptyBody,
    #[error("the request body is not JSON: {0}")]
    NotJson(String),
    #[error("the request body must be a JSON object (or an array of them)")]
    NotAnObject,
    #[error("a batch must hold between 1 and {0} requests")]
    BatchSize(usize),
    #[error("`{0}` must be {1}")]
    WrongType(&'static str, &'static str),
    #[error("`query` is required")]
    MissingQuery,
    #[error("the query string is not valid: {0}")]
    BadQueryString(String),
    #[error("the query string has `{0}` twice")]
    Repeated(String),
}

fn params(value: Value) -> Result<Params, TransportError> {
    let Value::Object(mut object) = value else { return Err(TransportError::NotAnObject) };
    let string = |v: Option<Value>, name: &'static str| match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(TransportError::WrongType(name, "a string")),
    };
    let map = |v: Option<Value>, name: &'static str| match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(TransportError::WrongType(name, "an object")),
    };
    let query = string(object.remove("query"), "query")?;
    let operation_name = string(object.remove("operationName"), "operationName")?;
    let variables = map(object.remove("variables"), "variables")?;
    let extensions = map(object.remove("extensions"), "extensions")?;
    if query.is_none() && !extensions.contains_key("persistedQuery") {
        return Err(TransportError::MissingQuery);
    }
    Ok(Params { query, operation_name, variables, extensions })
}

/// Reads a POST body: one request object or a batch of at most `max_batch`.
pub fn parse_body(body: &[u8], max_batch: usize) -> Result<Incoming, TransportError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(TransportError::EmptyBody);
    }
    // serde_json refuses input nested deeper than 128 levels, and so never
    // recurses far: depth cannot overflow the stack here.
    let value: Value = serde_json::from_slice(body).map_err(|e| TransportError::NotJson(e.to_string()))?;
    match value {
        Value::Array(items) => {
            if items.is_empty() || items.len() > max_batch {
                return Err(TransportError::BatchSize(max_batch));
            }
            items.into_iter().map(params).collect::<Result<_, _>>().map(Incoming::Batch)
        }
        other => params(other).map(Incoming::Single),
    }
}

/// Reads a GET query string (`application/x-www-form-urlencoded`, so `+` is
/// a space); `variables` and `extensions` are JSON; empty means absent.
pub fn parse_query_string(raw: &str) -> Result<Params, TransportError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|e| TransportError::BadQueryString(e.to_string()))?;
    let mut object = Map::new();
    for (key, value) in pairs {
        if !matches!(key.as_str(), "query" | "operationName" | "variables" | "extensions") {
            continue;
        }
        if object.contains_key(&key) {
            return Err(TransportError::Repeated(key));
        }
        let value = match key.as_str() {
            _ if value.is_empty() => Value::Null,
            "variables" | "extensions" => serde_json::from_str(&value).map_err(|_| {
                TransportError::WrongType(if key == "variables" { "variables" } else { "extensions" }, "a JSON object")
            })?,
            _ => Value::String(value),
        };
        object.insert(key, value);
    }
    params(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_the_media_type() {
        use MediaType::*;
        assert_eq!(negotiate(None), Some(Json));
        assert_eq!(negotiate(Some("*/*")), Some(Json));
        assert_eq!(negotiate(Some("application/json")), Some(Json));
        assert_eq!(negotiate(Some("application/graphql-response+json")), Some(GraphQLResponse));
        assert_eq!(negotiate(Some("application/graphql-response+json, application/json;q=0.9")), Some(GraphQLResponse));
        assert_eq!(negotiate(Some("application/json, application/graphql-response+json;q=0.5")), Some(Json));
        assert_eq!(negotiate(Some("text/html,application/xhtml+xml,*/*;q=0.8")), Some(Json));
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn only_utf8_json_bodies_are_taken() {
        assert!(is_json_body(Some("application/json")));
        assert!(is_json_body(Some("Application/JSON; charset=UTF-8")));
        assert!(!is_json_body(Some("application/json; charset=latin1")));
        assert!(!is_json_body(Some("text/plain;charset=UTF-8")));
        assert!(!is_json_body(Some("application/x-www-form-urlencoded")));
        assert!(!is_json_body(None));
    }

    #[test]
    fn parameters_are_typed_strictly_and_null_means_absent() {
        let ok = parse_body(br#"{"query":"{ a }","variables":null,"operationName":null,"extensions":null}"#, 10);
        assert!(matches!(ok, Ok(Incoming::Single(Params { query: Some(_), .. }))));
        for (body, expected) in [
            (&br#"{"query":1}"#[..], TransportError::WrongType("query", "a string")),
            (br#"{"query":"{ a }","variables":"x"}"#, TransportError::WrongType("variables", "an object")),
            (br#"{"query":"{ a }","operationName":[]}"#, TransportError::WrongType("operationName", "a string")),
            (br#"{"notquery":"{ a }"}"#, TransportError::MissingQuery),
            (b"  ", TransportError::EmptyBody),
            (b"[]", TransportError::BatchSize(10)),
            (b"\"a string\"", TransportError::NotAnObject),
        ] {
            assert_eq!(parse_body(body, 10), Err(expected));
        }
        assert!(matches!(parse_body(b"{ not json", 10), Err(TransportError::NotJson(_))));
    }

    #[test]
    fn get_query_strings_are_form_encoded() {
        let params = parse_query_string("query=%7B+__typename+%7D&variables=&operationName=").expect("valid");
        assert_eq!(params.query.as_deref(), Some("{ __typename }"));
        assert!(params.variables.is_empty());
        assert!(matches!(parse_query_string("query=a&query=b"), Err(TransportError::Repeated(_))));
        assert!(matches!(parse_query_string("query=a&variables=%5B1%5D"), Err(TransportError::WrongType(..))));
    }
}

#[cfg(test)]
mod fuzz {
    //! Whatever bytes arrive, the request parser answers with a value or an
    //! error, never a panic, and never recurses beyond serde_json's bound.

    use proptest::prelude::*;

    use super::*;

    fn json_like() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just("\"query\"".to_owned()),
            Just("\"variables\"".to_owned()),
            Just("\"extensions\"".to_owned()),
            Just("\"operationName\"".to_owned()),
            Just("null".to_owned()),
            Just("1e999".to_owned()),
            Just("\"{ __typename }\"".to_owned()),
            "[a-z\\\\\"]{0,4}",
        ];
        proptest::collection::vec(atom, 0..200).prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn any_body_is_parsed_or_refused(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_body(&body, 10);
        }

        #[test]
        fn any_json_like_body_is_parsed_or_refused(body in json_like()) {
            let _ = parse_body(body.as_bytes(), 10);
        }

        #[test]
        fn any_query_string_is_parsed_or_refused(raw in ".{0,300}") {
            let _ = parse_query_string(&raw);
        }

        #[test]
        fn any_accept_or_content_type_header_is_handled(header in ".{0,120}") {
            let _ = negotiate(Some(&header));
            let _ = is_json_body(Some(&header));
        }
    }
}
