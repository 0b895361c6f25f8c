//! The web app: plain HTML, CSS and JavaScript modules from `web/app/` at the workspace root,
//! compiled into the binary (so that one file deploys it, as with the Swagger UI), served at
//! `/` and `/app/{file}`. It talks to the server through the documented REST endpoints and
//! Socket.IO events only, with the client bundle served at `/socket.io/socket.io.js`.

use std::sync::LazyLock;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;

use super::static_file::StaticFile;
use crate::ApiError;

/// Revalidated on every load (an unchanged file is an empty 304), so that a new server
/// version reaches browsers at once.
const CACHE_CONTROL: &str = "no-cache";

/// The page served at `/`.
static INDEX: LazyLock<StaticFile> = LazyLock::new(|| {
    StaticFile::new(
        "text/html; charset=utf-8",
        Bytes::from_static(include_bytes!("../../../../web/app/index.html")),
    )
});

/// The app's other files by name, served under `/app/`.
static ASSETS: LazyLock<Vec<(&'static str, StaticFile)>> = LazyLock::new(|| {
    macro_rules! asset {
        ($name:literal, $content_type:literal) => {
            (
                $name,
                StaticFile::new(
                    $content_type,
                    Bytes::from_static(include_bytes!(concat!("../../../../web/app/", $name))),
                ),
            )
        };
    }
    vec![
        asset!("style.css", "text/css; charset=utf-8"),
        asset!("app.js", "text/javascript; charset=utf-8"),
        asset!("api.js", "text/javascript; charset=utf-8"),
        asset!("conversation.js", "text/javascript; charset=utf-8"),
        asset!("picker.js", "text/javascript; charset=utf-8"),
        asset!("view.js", "text/javascript; charset=utf-8"),
    ]
});

/// `GET /`: the app's page.
pub(crate) async fn index(request: HttpRequest) -> HttpResponse {
    INDEX.respond(&request, CACHE_CONTROL)
}

/// `GET /app/{file}`: a script or stylesheet of the app; any other name is the 404 of an
/// unknown path.
pub(crate) async fn asset(
    request: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    ASSETS
        .iter()
        .find(|(name, _)| *name == file.as_str())
        .map(|(_, found)| found.respond(&request, CACHE_CONTROL))
        .ok_or(ApiError::NoSuchPath)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(file: &StaticFile) -> &str {
        std::str::from_utf8(file.bytes()).unwrap_or_default()
    }

    #[test]
    fn the_page_loads_the_bundle_then_the_app_without_inline_script() {
        let page = text(&INDEX);
        for loaded in ["/socket.io/socket.io.js", "/app/style.css", "/app/app.js"] {
            assert!(page.contains(&format!("\"{loaded}\"")), "{loaded}");
        }
        assert!(
            !page.contains("<script>"),
            "the policy forbids inline script"
        );
        assert!(
            !page.contains("style=\""),
            "the policy forbids inline style"
        );
    }

    #[test]
    fn every_module_the_app_imports_is_served() {
        for (name, file) in ASSETS.iter().filter(|(name, _)| name.ends_with(".js")) {
            for import in text(file).split("from \"./").skip(1) {
                let imported = import.split('"').next().unwrap_or_default();
                assert!(
                    ASSETS.iter().any(|(served, _)| *served == imported),
                    "{name} imports {imported}, which is not served"
                );
            }
        }
    }
}
