//! Who is asking: passwords, sessions, the signed-in user, CSRF defence and the access policy.

pub mod csrf;
pub mod password;
pub mod policy;
pub mod second_factor;
pub mod session;
pub mod sso;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What a membership lets a person do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The council's Prevent lead: fills in and submits, invites colleagues.
    Lead,
    /// A partner officer: contributes to the benchmarks they are given.
    Contributor,
    /// A board or elected member: reads only.
    Board,
    /// An action owner: sees and updates their actions.
    Owner,
    /// The council's Chief Executive or a Strategic Director: signs the Channel statement.
    Signatory,
    /// A Home Office regional adviser: every council of their region.
    Adviser,
    /// The Home Office's Channel team: every council's Channel statement, nationally.
    ChannelTeam,
    /// An administrator: everything.
    Admin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Lead,
        Role::Contributor,
        Role::Board,
        Role::Owner,
        Role::Signatory,
        Role::Adviser,
        Role::ChannelTeam,
        Role::Admin,
    ];
    /// The roles a lead may give within their own council.
    pub const COUNCIL: [Role; 5] = [
        Role::Lead,
        Role::Contributor,
        Role::Board,
        Role::Owner,
        Role::Signatory,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Lead => "lead",
            Role::Contributor => "contributor",
            Role::Board => "board",
            Role::Owner => "owner",
            Role::Signatory => "signatory",
            Role::Adviser => "adviser",
            Role::ChannelTeam => "channel_team",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Lead => "Prevent lead",
            Role::Contributor => "Contributor",
            Role::Board => "Board member",
            Role::Owner => "Action owner",
            Role::Signatory => "Signatory (Chief Executive or Strategic Director)",
            Role::Adviser => "Regional adviser",
            Role::ChannelTeam => "Home Office Channel team",
            Role::Admin => "Administrator",
        }
    }

    pub fn is_council_role(self) -> bool {
        Role::COUNCIL.contains(&self)
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One role of a person, where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: Uuid,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    pub organisation_slug: Option<String>,
    pub organisation_name: Option<String>,
    /// The adviser's region, or the council's region.
    pub region_id: Option<Uuid>,
    pub region_slug: Option<String>,
    pub region_name: Option<String>,
    /// A contributor's benchmarks.
    pub sections: Vec<i32>,
}

impl Membership {
    /// "Prevent lead, Ashbridge Borough Council", "Regional adviser, North Vale", "Administrator".
    pub fn describe(&self) -> String {
        let place = match self.role {
            Role::Adviser => self.region_name.clone(),
            Role::Admin | Role::ChannelTeam => None,
            _ => self.organisation_name.clone(),
        };
        let mut text = match place {
            Some(place) => format!("{}, {place}", self.role.label()),
            None => self.role.label().to_owned(),
        };
        if self.role == Role::Contributor && !self.sections.is_empty() {
            let list: Vec<String> = self.sections.iter().map(i32::to_string).collect();
            text.push_str(&format!(" (benchmarks {})", list.join(", ")));
        }
        text
    }
}

/// The signed-in person and everything the access policy needs about them.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub memberships: Vec<Membership>,
    /// The hash of this request's session id.
    pub session_hash: Vec<u8>,
    /// Notifications not yet read.
    pub unread: i64,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.memberships.iter().any(|m| m.role == Role::Admin)
    }

    pub fn has_role_in(&self, role: Role, organisation_id: Uuid) -> bool {
        self.memberships
            .iter()
            .any(|m| m.role == role && m.organisation_id == Some(organisation_id))
    }

    pub fn belongs_to(&self, organisation_id: Uuid) -> bool {
        self.memberships
            .iter()
            .any(|m| m.organisation_id == Some(organisation_id))
    }

    /// Checks Channel statements nationally.
    pub fn is_channel_team(&self) -> bool {
        self.memberships.iter().any(|m| m.role == Role::ChannelTeam)
    }

    pub fn advises(&self, region_id: Uuid) -> bool {
        self.memberships
            .iter()
            .any(|m| m.role == Role::Adviser && m.region_id == Some(region_id))
    }

    /// The councils where this person is the lead.
    pub fn led_councils(&self) -> impl Iterator<Item = &Membership> {
        self.memberships.iter().filter(|m| m.role == Role::Lead)
    }
}

/// A new random token for a cookie or a one-time link, and the hash that is stored.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = hash_token(&token);
    (token, hash)
}

/// What is stored for a token: its SHA-256.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
