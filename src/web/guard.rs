//! Asking the access policy, and recording a refusal in the audit trail.

use sqlx::types::ipnetwork::IpNetwork;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Object};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::web::account::event;

/// Ok when the policy allows `who` to do `action` to `object`; otherwise the refusal is audited
/// and the answer is 403.
pub async fn authorise(
    state: &AppState,
    who: &Principal,
    ip: Option<IpNetwork>,
    action: Action,
    object: Object,
) -> AppResult<()> {
    if policy::allows(who, action, object) {
        return Ok(());
    }
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "permission.refused",
        "permission",
    );
    let (organisation_id, region_id) = match object {
        Object::Organisation { id, region_id } => (Some(id), Some(region_id)),
        Object::Region(id) => (None, Some(id)),
        Object::Service => (None, None),
        Object::Assessment {
            organisation_id,
            region_id,
            ..
        }
        | Object::PlanAction {
            organisation_id,
            region_id,
            ..
        } => (Some(organisation_id), Some(region_id)),
    };
    e.organisation_id = organisation_id;
    e.region_id = region_id;
    e.after = Some(serde_json::json!({ "action": format!("{action:?}") }));
    db::audit::record(&state.db, &e).await?;
    Err(AppError::Forbidden)
}

/// As [`authorise`], but a refusal answers 404: for things looked up by address, whose very
/// existence is not for someone who may not see them.
pub async fn authorise_or_hide(
    state: &AppState,
    who: &Principal,
    ip: Option<IpNetwork>,
    action: Action,
    object: Object,
) -> AppResult<()> {
    match authorise(state, who, ip, action, object).await {
        Err(AppError::Forbidden) => Err(AppError::NotFound),
        other => other,
    }
}
