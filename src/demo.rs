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
            (Role::Admin, _) | (_, None) => (None, None),
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
