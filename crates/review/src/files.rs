//! Page images and crops from the data directory, and the facility search of the page form.

use std::path::{Component, Path as FsPath, PathBuf};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use capsurvey_store::StoreError;
use capsurvey_store::entity::facilities;
use capsurvey_store::sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;

use crate::{App, Result, ReviewError};

/// The file under `data_dir` that `relative` names, or `None` if it would leave the directory
/// (`..`, absolute paths, symbolic links pointing outside) or does not exist.
pub fn resolve_in(data_dir: &FsPath, relative: &str) -> Option<PathBuf> {
    if relative.is_empty() || relative.contains('\0') || relative.contains('\\') {
        return None;
    }
    let rel = FsPath::new(relative);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let root = data_dir.canonicalize().ok()?;
    let full = root.join(rel).canonicalize().ok()?;
    (full.starts_with(&root) && full.is_file()).then_some(full)
}

fn content_type(path: &FsPath) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => return None,
    })
}

/// `GET /files/{*path}`: an image from the data directory (logged-in users only).
pub async fn file(State(app): State<App>, Path(path): Path<String>) -> Result<Response> {
    let not_found = || ReviewError::NotFound("画像が見つかりません。".into());
    let full = resolve_in(&app.config().data_dir, &path).ok_or_else(not_found)?;
    let ct = content_type(&full).ok_or_else(not_found)?;
    let bytes = tokio::fs::read(&full).await.map_err(|_| not_found())?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response())
}

/// Query of the facility search.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /facilities/search?q=`: up to 20 facilities whose code or name contains `q` (JSON).
pub async fn facility_search(
    State(app): State<App>,
    Query(sq): Query<SearchQuery>,
) -> Result<Json<Vec<serde_json::Value>>> {
    let q = crate::values::normalize_input(&sq.q);
    if q.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let found = facilities::Entity::find()
        .filter(
            Condition::any()
                .add(facilities::Column::Code.contains(q.as_str()))
                .add(facilities::Column::Name.contains(q.as_str()))
                .add(facilities::Column::NameKana.contains(q.as_str())),
        )
        .order_by_asc(facilities::Column::Code)
        .limit(20)
        .all(app.store().db())
        .await
        .map_err(StoreError::from)?;
    Ok(Json(
        found
            .into_iter()
            .map(|f| {
                serde_json::json!({
                    "code": f.code,
                    "name": f.name,
                    "address": f.address,
                    "type": f.facility_type,
                })
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::resolve_in;

    #[test]
    fn paths_stay_inside_the_data_directory() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("crops")).unwrap();
        std::fs::write(root.path().join("crops/a.png"), b"png").unwrap();
        assert!(resolve_in(root.path(), "crops/a.png").is_some());
        for bad in [
            "",
            "../a.png",
            "crops/../../etc/passwd",
            "/etc/passwd",
            "crops\\a.png",
            "crops/./a.png/..",
            "crops",
            "crops/none.png",
        ] {
            assert!(resolve_in(root.path(), bad).is_none(), "{bad}");
        }
        #[cfg(unix)]
        {
            let outside = tempfile::NamedTempFile::new().unwrap();
            std::os::unix::fs::symlink(outside.path(), root.path().join("crops/out.png")).unwrap();
            assert!(resolve_in(root.path(), "crops/out.png").is_none());
        }
    }
}
