//! Demonstration data: two fictional regions with their councils, and three cycles. Running it
//! again changes nothing.

use anyhow::Context;
use sqlx::PgPool;
use time::{Date, Month};

use crate::auth::Role;
use crate::db::{places, users};

/// A demo region and its councils (fictional names).
pub struct DemoRegion {
    pub slug: &'static str,
    pub name: &'static str,
    /// (slug, name) of each council.
    pub councils: &'static [(&'static str, &'static str)],
}

/// The demo regions.
pub const REGIONS: &[DemoRegion] = &[
    DemoRegion {
        slug: "north-vale",
        name: "North Vale",
        councils: &[
            ("ashbridge", "Ashbridge Borough Council"),
            ("brackenfield", "Brackenfield District Council"),
            ("calderbrook", "Calderbrook City Council"),
            ("dunmere", "Dunmere County Council"),
        ],
    },
    DemoRegion {
        slug: "south-weald",
        name: "South Weald",
        councils: &[
            ("eastholme", "Eastholme Borough Council"),
            ("fenwick-vale", "Fenwick Vale District Council"),
            ("greyhaven", "Greyhaven City Council"),
        ],
    },
];

/// The demo cycles: this financial year and the two before it (a financial year starts on
/// 1 April), so the current one is always there to start.
pub fn cycle_years(today: Date) -> [i32; 3] {
    let this = if today.month() >= Month::April {
        today.year()
    } else {
        today.year() - 1
    };
    [this - 2, this - 1, this]
}

fn date(year: i32, month: Month, day: u8) -> anyhow::Result<Date> {
    Date::from_calendar_date(year, month, day).context("building a demo date")
}

/// The password of every demo account (demonstration only).
pub const DEMO_PASSWORD: &str = "demo-password-prevent";

/// A demo person: email, name, role, where (council or region slug), benchmarks.
pub struct DemoPerson {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub place: Option<&'static str>,
    pub sections: &'static [i32],
}

/// The demo people: an administrator, an adviser per region, a lead per council, and at
/// Ashbridge a contributor, a board member and an action owner.
pub fn people() -> Vec<DemoPerson> {
    let mut people = vec![
        DemoPerson {
            email: "admin@prevent-assure.example",
            name: "Alex Morgan",
            role: Role::Admin,
            place: None,
            sections: &[],
        },
        DemoPerson {
            email: "adviser.north-vale@homeoffice.example",
            name: "Nadia Hussain",
            role: Role::Adviser,
            place: Some("north-vale"),
            sections: &[],
        },
        DemoPerson {
            email: "adviser.south-weald@homeoffice.example",
            name: "Sam Okafor",
            role: Role::Adviser,
            place: Some("south-weald"),
            sections: &[],
        },
        DemoPerson {
            email: "contributor@ashbridge.example",
            name: "Chris Bell",
            role: Role::Contributor,
            place: Some("ashbridge"),
            sections: &[5, 7],
        },
        DemoPerson {
            email: "board@ashbridge.example",
            name: "Councillor Pat Reid",
            role: Role::Board,
            place: Some("ashbridge"),
            sections: &[],
        },
        DemoPerson {
            email: "owner@ashbridge.example",
            name: "Jo Whitfield",
            role: Role::Owner,
            place: Some("ashbridge"),
            sections: &[],
        },
        DemoPerson {
            email: "signatory@ashbridge.example",
            name: "Dr Helen Marsh",
            role: Role::Signatory,
            place: Some("ashbridge"),
            sections: &[],
        },
        DemoPerson {
            email: "channel@homeoffice.example",
            name: "Grace Adeyemi",
            role: Role::ChannelTeam,
            place: None,
            sections: &[],
        },
    ];
    const LEADS: [(&str, &str, &str); 7] = [
        ("lead@ashbridge.example", "Priya Shah", "ashbridge"),
        ("lead@brackenfield.example", "Tom Evans", "brackenfield"),
        ("lead@calderbrook.example", "Aisha Begum", "calderbrook"),
        ("lead@dunmere.example", "Mark Hughes", "dunmere"),
        ("lead@eastholme.example", "Lucy Carter", "eastholme"),
        ("lead@fenwick-vale.example", "Owen Price", "fenwick-vale"),
        ("lead@greyhaven.example", "Ruth Adams", "greyhaven"),
    ];
    for (email, name, council) in LEADS {
        people.push(DemoPerson {
            email,
            name,
            role: Role::Lead,
            place: Some(council),
            sections: &[],
        });
    }
    // A signatory for each council besides Ashbridge's, who sign their Channel statements.
    const SIGNATORIES: [(&str, &str, &str); 6] = [
        (
            "signatory@brackenfield.example",
            "Gareth Lloyd",
            "brackenfield",
        ),
        (
            "signatory@calderbrook.example",
            "Samira Patel",
            "calderbrook",
        ),
        ("signatory@dunmere.example", "Fiona Grant", "dunmere"),
        ("signatory@eastholme.example", "David Osei", "eastholme"),
        (
            "signatory@fenwick-vale.example",
            "Claire Dunn",
            "fenwick-vale",
        ),
        ("signatory@greyhaven.example", "Ian Rees", "greyhaven"),
    ];
    for (email, name, council) in SIGNATORIES {
        people.push(DemoPerson {
            email,
            name,
            role: Role::Signatory,
            place: Some(council),
            sections: &[],
        });
    }
    people
}

/// Loads the demo data in one transaction.
pub async fn load(pool: &PgPool) -> anyhow::Result<()> {
    let hash = crate::auth::password::hash(crate::config::Secret::new(DEMO_PASSWORD)).await;
    let mut tx = pool.begin().await?;
    for region in REGIONS {
        let region_id = places::upsert_region(&mut tx, region.slug, region.name)
            .await
            .with_context(|| format!("creating region {}", region.slug))?;
        for (org_slug, org_name) in region.councils {
            places::upsert_organisation(&mut tx, org_slug, org_name, region_id)
                .await
                .with_context(|| format!("creating council {org_slug}"))?;
        }
    }
    for year in cycle_years(time::OffsetDateTime::now_utc().date()) {
        let label = format!("{year}/{:02}", (year + 1) % 100);
        places::upsert_cycle(
            &mut tx,
            &label,
            date(year, Month::April, 1)?,
            date(year, Month::October, 1)?,
            date(year + 1, Month::January, 31)?,
        )
        .await
        .with_context(|| format!("creating cycle {label}"))?;
    }
    for person in people() {
        let user = users::upsert_with_password(&mut tx, person.email, person.name, &hash)
            .await
            .with_context(|| format!("creating demo user {}", person.email))?;
        let (organisation, region) = match (person.role, person.place) {
            (Role::Adviser, Some(slug)) => (None, places::region_id(&mut tx, slug).await?),
            (Role::Admin | Role::ChannelTeam, _) | (_, None) => (None, None),
            (_, Some(slug)) => (places::organisation_id(&mut tx, slug).await?, None),
        };
        let sections = (person.role == Role::Contributor).then_some(person.sections);
        users::add_membership(&mut tx, user, person.role, organisation, region, sections)
            .await
            .with_context(|| format!("giving {} their role", person.email))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Actions per assessment in the demo: about what a council's plan holds.
pub const DEMO_ACTIONS: i32 = 15;

/// Fills the demo councils' self-assessments for every cycle: past years published and agreed,
/// this year in a mix of states (Ashbridge's a draft), with evidence, scores, actions and notes.
pub async fn fill(pool: &PgPool) -> anyhow::Result<crate::db::sample::Filled> {
    let mut ids = Vec::new();
    let mut conn = pool.acquire().await?;
    for region in REGIONS {
        for (slug, _) in region.councils {
            ids.extend(places::organisation_id(&mut conn, slug).await?);
        }
    }
    drop(conn);
    let today = time::OffsetDateTime::now_utc().date();
    let mut filled = crate::db::sample::fill(pool, &ids, DEMO_ACTIONS, today)
        .await
        .context("filling the demo assessments")?;
    filled.statements = crate::db::sample::fill_statements(pool, &ids, today)
        .await
        .context("filling the demo Channel statements")?;
    Ok(filled)
}

/// The size of a generated data set.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub councils: u32,
    pub regions: u32,
    pub cycles: u32,
    pub actions: i32,
}

/// Generates a national-scale data set for the benchmark suite: `regions` regions
/// (`region-1` …), councils `council-001` … spread over them, each with a lead
/// (`lead@council-001.example`) and an action owner (`owner@council-001.example`), an adviser
/// per region (`adviser.region-1@homeoffice.example`), the administrator, `cycles` cycles up to
/// this one, and a filled assessment per council and cycle. All passwords are the demo one.
pub async fn generate(pool: &PgPool, scale: Scale) -> anyhow::Result<crate::db::sample::Filled> {
    let hash = crate::auth::password::hash(crate::config::Secret::new(DEMO_PASSWORD)).await;
    let today = time::OffsetDateTime::now_utc().date();
    let mut tx = pool.begin().await?;
    let this = cycle_years(today)[2];
    for year in (this + 1 - scale.cycles as i32)..=this {
        let label = format!("{year}/{:02}", (year + 1) % 100);
        places::upsert_cycle(
            &mut tx,
            &label,
            date(year, Month::April, 1)?,
            date(year, Month::October, 1)?,
            date(year + 1, Month::January, 31)?,
        )
        .await
        .with_context(|| format!("creating cycle {label}"))?;
    }
    let admin = users::upsert_with_password(
        &mut tx,
        "admin@prevent-assure.example",
        "Alex Morgan",
        &hash,
    )
    .await?;
    users::add_membership(&mut tx, admin, Role::Admin, None, None, None).await?;
    let team =
        users::upsert_with_password(&mut tx, "channel@homeoffice.example", "Channel team", &hash)
            .await?;
    users::add_membership(&mut tx, team, Role::ChannelTeam, None, None, None).await?;
    let mut regions = Vec::new();
    for r in 1..=scale.regions {
        let slug = format!("region-{r}");
        let id = places::upsert_region(&mut tx, &slug, &format!("Region {r}")).await?;
        let adviser = users::upsert_with_password(
            &mut tx,
            &format!("adviser.{slug}@homeoffice.example"),
            &format!("Adviser for Region {r}"),
            &hash,
        )
        .await?;
        users::add_membership(&mut tx, adviser, Role::Adviser, None, Some(id), None).await?;
        regions.push(id);
    }
    let mut councils = Vec::new();
    for c in 1..=scale.councils {
        let slug = format!("council-{c:03}");
        let region = regions[(c as usize - 1) % regions.len()];
        let id =
            places::upsert_organisation(&mut tx, &slug, &format!("Council {c:03}"), region).await?;
        for (role, who, name) in [
            (Role::Lead, "lead", "Prevent lead"),
            (Role::Owner, "owner", "Action owner"),
        ] {
            let user = users::upsert_with_password(
                &mut tx,
                &format!("{who}@{slug}.example"),
                &format!("{name}, Council {c:03}"),
                &hash,
            )
            .await?;
            users::add_membership(&mut tx, user, role, Some(id), None, None).await?;
        }
        councils.push(id);
    }
    tx.commit().await?;
    let mut filled = crate::db::sample::fill(pool, &councils, scale.actions, today)
        .await
        .context("filling the generated assessments")?;
    filled.statements = crate::db::sample::fill_statements(pool, &councils, today)
        .await
        .context("filling the generated Channel statements")?;
    Ok(filled)
}
