//! Demonstration data: two fictional regions with their councils, and three cycles. Running it
//! again changes nothing.

use anyhow::Context;
use sqlx::PgPool;
use time::{Date, Month};

use crate::db::places;

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

/// The demo cycles: financial years starting in these years.
pub const CYCLE_YEARS: &[i32] = &[2022, 2023, 2024];

fn date(year: i32, month: Month, day: u8) -> anyhow::Result<Date> {
    Date::from_calendar_date(year, month, day).context("building a demo date")
}

/// Loads the demo data in one transaction.
pub async fn load(pool: &PgPool) -> anyhow::Result<()> {
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
    for &year in CYCLE_YEARS {
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
    tx.commit().await?;
    Ok(())
}
