//! Serves the API's own documentation: the OpenAPI document at [`OPENAPI_PATH`] and a Swagger
//! UI page at `/docs/`. The Swagger UI bundle is compiled into the binary (the `vendored`
//! build of `utoipa-swagger-ui`), and the page loads nothing from another host, so it works
//! offline and behind a firewall.

use std::sync::{Arc, LazyLock};

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::Config;

use crate::openapi;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";

/// The Swagger UI settings. URLs are relative to the page (`/docs/`), so the page also works
/// behind a proxy that mounts the server under a prefix. `validator_url("none")` turns off the
/// badge that would ask validator.swagger.io to check the document.
static SWAGGER: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::new([format!("..{OPENAPI_PATH}")]).validator_url("none")));

/// `GET /api-docs/openapi.json`: the OpenAPI 3.1 document of the REST API.
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(openapi::document())
}

/// `GET /docs`: sends the browser to `/docs/`, where the page's relative asset URLs resolve
/// under `/docs/`. The `Location` is relative for the same reason as above.
pub(crate) async fn docs_root() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "docs/"))
        .finish()
}

/// `GET /docs/{tail}`: the Swagger UI page (`/docs/` is its `index.html`) and its assets.
pub(crate) async fn docs_asset(tail: web::Path<String>) -> HttpResponse {
    match utoipa_swagger_ui::serve(&tail, Arc::clone(&SWAGGER)) {
        Ok(Some(file)) => HttpResponse::Ok()
            .content_type(file.content_type)
            .body(file.bytes.into_owned()),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(error) => {
            tracing::error!(%error, "cannot render the Swagger UI");
            HttpResponse::InternalServerError().finish()
        }
    }
}
