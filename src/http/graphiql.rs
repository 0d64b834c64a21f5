//! GraphiQL, served with every asset from the binary so it works offline
//! (pinned versions and licences in `assets/graphiql/VERSIONS.md`).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const INDEX: &str = include_str!("../../assets/graphiql/index.html");

/// File name, media type, contents.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("graphiql.min.css", "text/css; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.css")),
    ("graphiql.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.js")),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    ("LICENSE-graphiql", "text/plain; charset=utf-8", include_bytes!("../../assets/graphiql/LICENSE-graphiql")),
    ("LICENSE-react", "text/plain; charset=utf-8", include_bytes!("../../assets/graphiql/LICENSE-react")),
    ("LICENSE-react-dom", "text/plain; charset=utf-8", include_bytes!("../../assets/graphiql/LICENSE-react-dom")),
];

/// `/graphiql`: the page.
pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// `/graphiql/{file}`: one asset, cached for a day (the names change with the version).
pub async fn asset(Path(file): Path<String>) -> Response {
    if file == "index.html" {
        return Html(INDEX).into_response();
    }
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, body)) => {
            ([(header::CONTENT_TYPE, *media_type), (header::CACHE_CONTROL, "public, max-age=86400")], *body)
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response(),
    }
}
