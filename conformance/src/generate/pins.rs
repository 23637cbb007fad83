//! Which SPEC.md check ids a generated test pins (its `checks` field).
//!
//! A rejected input pins the check of its step's table whose error it fails with (the step is
//! the message type received, or the local action); a test also pins the §3 constants that
//! check names, the ids its scenario adds by hand (`Case::pins`, for what only an accepted
//! input shows, such as a boundary or a count), and PBKDF2_ITERATIONS when it runs the full
//! iteration count. Every id is checked against SPEC.md here, so a scenario cannot name one
//! that does not exist.

use std::collections::BTreeSet;

use ee2e_spec::Profile;

use super::world::World;
use crate::checks::{self, Check};
use crate::error::VectorError;
use crate::schema::{ClientInput, ClientTest, Hex, ServerTest};

/// The check table of a message type arriving at the server.
fn server_table(message: &Hex) -> Option<&'static str> {
    Some(match message.as_slice().get(1)? {
        0x01 => "S5.1",
        0x02 => "S5.3",
        0x10 => "S6.1",
        0x12 => "S6.3",
        0x20 => "S7.3",
        0x30 => "S8.2",
        0x40 | 0x41 => "S9.1",
        _ => return None,
    })
}

/// The check table of a client input.
fn client_table(profile: Profile, input: &ClientInput) -> Option<&'static str> {
    Some(match input {
        ClientInput::OtpReceived { .. } => "S5.2",
        ClientInput::Send { .. } => "S7.2",
        ClientInput::Receive { message } => match message.as_slice().get(1)? {
            0x03 => "S5.5",
            0x11 => "S6.2",
            0x13 => "S6.4",
            0x21 if profile == Profile::SEED => "S7.4s",
            0x21 => "S7.4h",
            0x31 => "S8.3",
            _ => return None,
        },
        _ => return None,
    })
}

pub(crate) fn client(
    world: &World,
    test: &ClientTest,
    error: Option<&str>,
    extra: &[&str],
) -> Result<Vec<String>, VectorError> {
    let table = client_table(world.profile, &test.input);
    collect(world, &test.comment, table, error, &test.flags, extra)
}

pub(crate) fn server(
    world: &World,
    test: &ServerTest,
    error: Option<&str>,
    extra: &[&str],
) -> Result<Vec<String>, VectorError> {
    // A refusal to store (§9.2) comes after the checks of the message's own table.
    let table = if error == Some("QueueFull") { Some("S9.2") } else { server_table(&test.input.message) };
    collect(world, &test.comment, table, error, &test.flags, extra)
}

fn collect(
    world: &World,
    comment: &str,
    table: Option<&str>,
    error: Option<&str>,
    flags: &[String],
    extra: &[&str],
) -> Result<Vec<String>, VectorError> {
    let all = checks::all().map_err(|e| world.fail(e))?;
    let applies = |c: &Check| c.applies.to(world.profile);
    let mut ids: BTreeSet<String> = BTreeSet::new();
    if let (Some(table), Some(error)) = (table, error) {
        let prefix = format!("{table}.");
        let failing: Vec<&Check> = all
            .iter()
            .filter(|c| c.id.starts_with(&prefix) && applies(c) && c.errors.contains(error))
            .collect();
        // An error that several checks of the table share (`QueueFull`, one per bound) does not
        // say which check failed: the scenario names it, and must.
        match failing.as_slice() {
            [one] => {
                ids.insert(one.id.clone());
            }
            [] => {}
            several if !several.iter().any(|c| extra.contains(&c.id.as_str())) => {
                let names: Vec<&str> = several.iter().map(|c| c.id.as_str()).collect();
                return Err(world.fail(format!(
                    "{comment:?} fails with {error}, which checks {} share: pin the one it fails",
                    names.join(", ")
                )));
            }
            _ => {}
        }
    }
    for id in extra {
        let check = all
            .iter()
            .find(|c| c.id == *id)
            .ok_or_else(|| world.fail(format!("{comment:?} pins {id}, which SPEC.md does not give")))?;
        if !applies(check) {
            return Err(world.fail(format!("{comment:?} pins {id}, which is not of this profile")));
        }
        ids.insert(check.id.clone());
    }
    if flags.iter().any(|f| f == "FullPbkdf2") {
        ids.insert("PBKDF2_ITERATIONS".into());
    }
    let constants: Vec<String> = all
        .iter()
        .filter(|c| ids.contains(&c.id))
        .flat_map(|c| c.constants.iter().cloned())
        .filter(|name| all.iter().any(|c| c.id == *name && applies(c)))
        .collect();
    ids.extend(constants);
    // Checks in document order, then limits, as SPEC.md lists them.
    Ok(all.iter().filter(|c| ids.contains(&c.id)).map(|c| c.id.clone()).collect())
}
