//! The accounts page (admins only): add users, change roles, reset passwords, disable.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use capsurvey_store::users::{self as accounts, Role};
use serde_json::json;

use crate::auth::{self, CurrentUser, require_admin};
use crate::web::{self, Fields, jst};
use crate::{App, Result, ReviewError};

async fn render_users(
    app: &App,
    user: &CurrentUser,
    notice: Option<serde_json::Value>,
    status: StatusCode,
) -> Result<Response> {
    let users: Vec<_> = accounts::list_users(app.store().db())
        .await?
        .into_iter()
        .map(|u| {
            let role = accounts::role_of(&u);
            json!({
                "id": u.id,
                "name": u.name,
                "role": role.as_str(),
                "role_label": role.label_ja(),
                "disabled": u.disabled,
                "created": jst(&u.created_at),
                "me": u.id == user.id,
            })
        })
        .collect();
    let roles: Vec<_> = Role::ALL
        .iter()
        .map(|r| json!({"role": r.as_str(), "label": r.label_ja()}))
        .collect();
    let ctx = web::with(
        web::base(app, user, "users").await?,
        json!({"users": users, "roles": roles, "notice": notice, "min_len": auth::MIN_PASSWORD_LEN}),
    );
    Ok((status, web::render(app, "users.html", &ctx)?).into_response())
}

/// `GET /users`.
pub async fn users_page(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Response> {
    require_admin(&user)?;
    render_users(&app, &user, None, StatusCode::OK).await
}

fn role_field(form: &Fields) -> Result<Role> {
    form.get("role")
        .unwrap_or("")
        .parse()
        .map_err(|_| ReviewError::BadRequest("役割を選んでください。".into()))
}

async fn outcome(app: &App, user: &CurrentUser, r: Result<String>) -> Result<Response> {
    match r {
        Ok(_) => Ok(Redirect::to("/users").into_response()),
        Err(e @ (ReviewError::Account(_) | ReviewError::BadRequest(_))) => {
            let notice =
                json!({"kind": "error", "title": "入力を確認してください", "text": e.to_string()});
            render_users(app, user, Some(notice), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /users`: name, role, password, password2.
pub async fn add_user(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    body: Bytes,
) -> Result<Response> {
    require_admin(&user)?;
    let form = Fields::parse(&body);
    let r = async {
        let role = role_field(&form)?;
        let name = form.get("name").unwrap_or("").trim();
        let password = form.get("password").unwrap_or("");
        if Some(password) != form.get("password2") {
            return Err(ReviewError::Account(
                "確認用のパスワードが一致しません。".into(),
            ));
        }
        auth::add_user(app.store(), name, role, password, &user.name).await?;
        Ok(name.to_owned())
    }
    .await;
    outcome(&app, &user, r).await
}

/// `POST /users/{id}/disabled`: `disabled` = 1 or 0.
pub async fn set_disabled(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response> {
    require_admin(&user)?;
    let form = Fields::parse(&body);
    let disabled = form.get("disabled") == Some("1");
    let r = async {
        if id == user.id && disabled {
            return Err(ReviewError::Account("自分自身は無効にできません。".into()));
        }
        accounts::set_user_disabled(app.store().db(), id, disabled, &user.name).await?;
        Ok(String::new())
    }
    .await;
    outcome(&app, &user, r).await
}

/// `POST /users/{id}/role`: `role`.
pub async fn set_role(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response> {
    require_admin(&user)?;
    let form = Fields::parse(&body);
    let r = async {
        let role = role_field(&form)?;
        if id == user.id && role != Role::Admin {
            return Err(ReviewError::Account(
                "自分自身の管理者権限は外せません。".into(),
            ));
        }
        accounts::set_user_role(app.store().db(), id, role, &user.name).await?;
        Ok(String::new())
    }
    .await;
    outcome(&app, &user, r).await
}

/// `POST /users/{id}/password`: `password`, `password2`; ends that user's sessions.
pub async fn set_password(
    State(app): State<App>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response> {
    require_admin(&user)?;
    let form = Fields::parse(&body);
    let r = async {
        let password = form.get("password").unwrap_or("");
        if Some(password) != form.get("password2") {
            return Err(ReviewError::Account(
                "確認用のパスワードが一致しません。".into(),
            ));
        }
        auth::change_password(app.store(), id, password, &user.name).await?;
        Ok(String::new())
    }
    .await;
    outcome(&app, &user, r).await
}
