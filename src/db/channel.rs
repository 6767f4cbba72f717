//! The Channel team's national view of the statements: every council's ratings in one statement.

use sqlx::PgPool;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// One council's line of the grid.
#[derive(Debug, Clone)]
pub struct GridRow {
    pub organisation_slug: String,
    pub organisation_name: String,
    pub region_slug: String,
    pub region_name: String,
    pub assessment: Option<Uuid>,
    pub state: Option<String>,
    pub submitted_at: Option<OffsetDateTime>,
    pub deadline: Date,
    /// Each statement's rating code in framework order; none until submitted.
    pub ratings: Ratings,
}

/// A council's rating codes in framework order ('' for a statement not rated), read as one
/// text separated by spaces and split once, where they are: 350 councils' 36 ratings decoded as
/// 12,600 strings were a tenth of the grid's CPU from the database, and split again on every
/// view of the kept grid they cost it a sixth more (bench/README.md).
#[derive(Debug, Clone, Default)]
pub struct Ratings {
    text: String,
    /// Where each code starts in `text`.
    starts: Vec<u32>,
}

impl Ratings {
    pub fn new(text: String) -> Ratings {
        let starts = if text.is_empty() {
            Vec::new()
        } else {
            std::iter::once(0)
                .chain(text.match_indices(' ').map(|(i, _)| i as u32 + 1))
                .collect()
        };
        Ratings { text, starts }
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The `i`th statement's rating code.
    pub fn get(&self, i: usize) -> Option<&str> {
        let start = *self.starts.get(i)? as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |next| *next as usize - 1);
        self.text.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.starts.len()).filter_map(|i| self.get(i))
    }
}

impl sqlx::Type<sqlx::Postgres> for Ratings {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for Ratings {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <String as sqlx::Decode<sqlx::Postgres>>::decode(value).map(Ratings::new)
    }
}

/// A council's statement in the cycle, as the grid reads it.
#[derive(Debug, Clone)]
pub struct GridStatement {
    pub organisation_id: Uuid,
    pub assessment: Uuid,
    pub state: String,
    pub submitted_at: Option<OffsetDateTime>,
    pub ratings: Ratings,
}

/// The cycle's deadline for the Channel statement and its statements, for the grid: the
/// ratings only of statements submitted or accepted, as kept when they were submitted. One
/// statement, however many councils, reading no answers; None when there is no such cycle.
///
/// It reads only the cycle's assessments: the grid's councils, their regions, names and order
/// are the places the server keeps ([`crate::cache::Caches::channel_grid`] puts them
/// together). Joined to `organisations` and `regions` and sorted by two names under the
/// database's collation, the grid's statement cost PostgreSQL three times as much
/// (bench/README.md).
pub async fn grid_statements(
    pool: &PgPool,
    cycle: Uuid,
    framework_code: &str,
) -> sqlx::Result<Option<(Date, Vec<GridStatement>)>> {
    let rows = sqlx::query!(
        r#"select coalesce(cf.deadline, c.deadline) as "deadline!",
                  a.organisation_id as "organisation_id?", a.id as "assessment?",
                  a.state as "state?", a.submitted_at as "submitted_at?",
                  -- Kept as the statement left its draft, joined (migrations 0018, 0025); read
                  -- from its answers only for one loaded without them (CASE and COALESCE evaluate
                  -- lazily, so drafts and kept ones call nothing).
                  case when a.state is null or a.state = 'draft' then ''
                       else coalesce(a.submitted_ratings, array_to_string(assessment_ratings(a.id), ' ', '')) end
                      as "ratings!: Ratings"
           from cycles c
           left join cycle_frameworks cf on cf.cycle_id = c.id and cf.framework_code = $2
           -- A row with no statement when none is started: the deadline comes all the same.
           left join assessments a on a.cycle_id = c.id
                and a.framework_id = (select id from frameworks where code = $2)
           where c.id = $1"#,
        cycle,
        framework_code
    )
    .fetch_all(pool)
    .await?;
    let Some(deadline) = rows.first().map(|r| r.deadline) else {
        return Ok(None);
    };
    let statements = rows
        .into_iter()
        .filter_map(|r| {
            Some(GridStatement {
                organisation_id: r.organisation_id?,
                assessment: r.assessment?,
                state: r.state?,
                submitted_at: r.submitted_at,
                ratings: r.ratings,
            })
        })
        .collect();
    Ok(Some((deadline, statements)))
}

/// One key area of a council's latest statement, with how many statements have each rating.
#[derive(Debug, Clone)]
pub struct AreaCount {
    pub assessment: Uuid,
    pub state: String,
    pub cycle: String,
    pub number: i32,
    pub title: String,
    pub green: i64,
    pub amber: i64,
    pub red: i64,
    pub na: i64,
    pub unrated: i64,
}

/// The council's latest Channel statement and its latest accepted one (when that is another),
/// key area by key area, newest first, in one statement: a board member, who reads a statement
/// once accepted, sees last cycle's while this cycle's is being written.
pub async fn latest_by_area(pool: &PgPool, organisation: Uuid) -> sqlx::Result<Vec<AreaCount>> {
    sqlx::query_as!(
        AreaCount,
        r#"with latest as (
               (select a.id, a.state, c.label, c.starts_on from assessments a
                join cycles c on c.id = a.cycle_id
                join frameworks f on f.id = a.framework_id
                where a.organisation_id = $1 and f.kind = 'channel_statement'
                order by c.starts_on desc limit 1)
               union
               (select a.id, a.state, c.label, c.starts_on from assessments a
                join cycles c on c.id = a.cycle_id
                join frameworks f on f.id = a.framework_id
                where a.organisation_id = $1 and f.kind = 'channel_statement'
                  and a.state = 'published'
                order by c.starts_on desc limit 1)
           )
           select l.id as "assessment!", l.state as "state!", l.label as "cycle!", s.number, s.title,
                  count(*) filter (where g.code = 'green') as "green!",
                  count(*) filter (where g.code = 'amber') as "amber!",
                  count(*) filter (where g.code = 'red') as "red!",
                  count(*) filter (where g.code = 'na') as "na!",
                  count(*) filter (where g.code is null) as "unrated!"
           from latest l
           join answers an on an.assessment_id = l.id
           join items i on i.id = an.item_id
           join sections s on s.id = i.section_id
           left join ratings g on g.id = an.rating_id
           group by l.id, l.state, l.label, l.starts_on, s.number, s.title
           order by l.starts_on desc, s.number"#,
        organisation
    )
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::Ratings;

    fn codes(text: &str) -> Vec<String> {
        Ratings::new(text.to_owned())
            .iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_statement_not_rated_keeps_its_place_among_the_ratings() {
        assert_eq!(codes("green  amber na "), ["green", "", "amber", "na", ""]);
        assert_eq!(codes("red"), ["red"]);
        assert!(codes("").is_empty(), "none until submitted");
        let ratings = Ratings::new("green  amber".to_owned());
        assert_eq!(
            (
                ratings.get(0),
                ratings.get(1),
                ratings.get(2),
                ratings.get(3)
            ),
            (Some("green"), Some(""), Some("amber"), None)
        );
        assert!(Ratings::new(String::new()).is_empty());
    }
}
