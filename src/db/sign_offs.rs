//! A Channel statement's sign-off: asked for, signed, voided by a later change (a trigger).

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct SignOff {
    pub requested_at: OffsetDateTime,
    pub requested_by: Option<String>,
    pub signed_at: Option<OffsetDateTime>,
    pub signed_by_email: Option<String>,
    pub signer_name: String,
    pub position: String,
    pub local_authority: String,
    pub panel: Option<String>,
    pub combined_with: String,
    pub voided_at: Option<OffsetDateTime>,
    pub voided_because: String,
    /// Changes to the statement since sign-off was asked for: a signature is taken only at
    /// the count the signatory's page showed.
    pub content_version: i32,
}

impl SignOff {
    pub fn signed(&self) -> bool {
        self.signed_at.is_some()
    }
}

pub async fn get(pool: &PgPool, assessment: Uuid) -> sqlx::Result<Option<SignOff>> {
    sqlx::query_as!(
        SignOff,
        r#"select s.requested_at, r.display_name as "requested_by?", s.signed_at,
                  u.email as "signed_by_email?", s.signer_name, s.position, s.local_authority,
                  s.panel, s.combined_with, s.voided_at, s.voided_because, s.content_version
           from sign_offs s
           left join users r on r.id = s.requested_by
           left join users u on u.id = s.signed_by
           where s.assessment_id = $1"#,
        assessment
    )
    .fetch_optional(pool)
    .await
}

/// Asks for sign-off (again): a signature that stands is kept.
pub async fn request(conn: &mut PgConnection, assessment: Uuid, by: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into sign_offs (assessment_id, requested_by) values ($1, $2)
         on conflict (assessment_id) do update set requested_at = now(), requested_by = $2
         where sign_offs.signed_at is null",
        assessment,
        by
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// What the signatory gives.
#[derive(Debug, Clone)]
pub struct Signature {
    pub name: String,
    pub position: String,
    pub local_authority: String,
    pub panel: String,
    pub combined_with: String,
}

/// Signs a draft statement whose sign-off was asked for, as it stood when the signatory read
/// it (`read`, its content version then); false when it is no longer a draft, nobody asked, or
/// it has changed since.
pub async fn sign(
    conn: &mut PgConnection,
    assessment: Uuid,
    by: Uuid,
    s: &Signature,
    read: i32,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update sign_offs o set signed_at = now(), signed_by = $2, signer_name = $3, position = $4,
                local_authority = $5, panel = $6, combined_with = $7, voided_at = null, voided_because = ''
         from assessments a
         where o.assessment_id = $1 and a.id = $1 and a.state = 'draft' and o.content_version = $8",
        assessment,
        by,
        s.name,
        s.position,
        s.local_authority,
        s.panel,
        s.combined_with,
        read
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
