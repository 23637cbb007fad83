//! `ee2e explore`: a small web Explorer of one model configuration on 127.0.0.1.
//!
//! Not stateright's Explorer: its "Current state" panel does not evaluate the properties on
//! the state shown — its script marks a property only where the path of the on-demand
//! checker's own discovery passes (so the end state of `check`'s 2-step attack reads "Safety
//! holds", and the links lead to the checker's 19–20-step paths, not the shortest); its pages
//! are compiled into the crate and cannot be replaced; it lists rejected actions among the
//! others and cannot be opened at a given trace. This one serves a page per state (addressed
//! by action indices, `/steps/3/0/12`), judges every property on that state
//! ([`ee2e_model::view`]), links each property to `check`'s shortest trace, and collapses
//! rejected actions.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use ee2e_model::check::BoundOverrides;
use ee2e_model::run::{EXAMPLE_SEARCH_LIMIT, TRACE_SEARCH_LIMIT, shortest_trace};
use ee2e_model::view::{self, ViewError};
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::Profile;
use tiny_http::{Header, Method, Response, Server};

use crate::explore_page::{error_page, page, steps_url};

/// Threads answering requests (each request is bounded: a path of at most
/// [`view::MAX_PATH`] steps, a trace search of at most [`EXAMPLE_SEARCH_LIMIT`] states).
const WORKERS: usize = 2;

/// `ee2e explore` arguments.
#[derive(Debug, clap::Args)]
pub struct ExploreArgs {
    /// Port on 127.0.0.1 (0: any free port; the one bound is printed).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// `seed`, `hardened` or `hardened-without-<fix>` (a fix's name or erratum number, e.g.
    /// `hardened-without-E1`; see `ee2e check --list-fixes`).
    #[arg(long, default_value = "seed")]
    pub profile: Profile,
    /// Threat model.
    #[arg(long, default_value = "network", long_help = ee2e_report::threats_help())]
    pub threat: Threat,
    /// `registration`, `messaging` or `lifecycle`.
    #[arg(long, default_value = "messaging")]
    pub scenario: Scenario,
    #[command(flatten)]
    pub bounds: BoundOverrides,
    /// Print the URL of `check`'s shortest counterexample (or witness) of this property and
    /// serve as usual (`--trace directory_binding`).
    #[arg(long)]
    pub trace: Option<String>,
}

/// The configuration `args` names: the given bounds over the scenario's defaults.
pub fn config(args: &ExploreArgs) -> Config {
    let bounds = args.bounds.over(Bounds::for_scenario(args.scenario));
    Config { profile: args.profile, threat: args.threat, scenario: args.scenario, bounds }
}

/// The Explorer's model and its cache of shortest traces.
struct Explorer {
    config: Config,
    model: Ee2eModel,
    title: String,
    /// Shortest trace of each property asked for (`None`: none within the search limit).
    traces: Mutex<HashMap<&'static str, Option<Vec<usize>>>>,
}

impl Explorer {
    fn new(config: Config) -> Self {
        Explorer {
            config,
            // Every step shown: no partial-order reduction.
            model: Ee2eModel::new(config).without_reduction(),
            title: format!("{} / {} / {}", config.profile, config.threat, config.scenario),
            traces: Mutex::new(HashMap::new()),
        }
    }

    /// `check`'s shortest trace of property `name` as action indices, searching at most
    /// `limit` states (cached).
    fn trace(&self, name: &str, limit: usize) -> Result<Option<Vec<usize>>, String> {
        let def = ee2e_model::properties::get(name)
            .filter(|d| d.part.in_scenario(self.config.scenario))
            .ok_or_else(|| format!("no property {name:?} in scenario {}", self.config.scenario))?;
        if let Some(found) = self.traces.lock().map_err(|_| "trace cache poisoned".to_string())?.get(def.name)
        {
            return Ok(found.clone());
        }
        let found =
            shortest_trace(self.config, def.name, limit).and_then(|t| view::indices_of(&self.model, &t));
        self.traces.lock().map_err(|_| "trace cache poisoned".to_string())?.insert(def.name, found.clone());
        Ok(found)
    }

    fn respond(&self, method: &Method, url: &str) -> Response<std::io::Cursor<Vec<u8>>> {
        let html = |status: u16, body: String| {
            Response::from_string(body)
                .with_status_code(status)
                .with_header(header("Content-Type", "text/html; charset=utf-8"))
        };
        if *method != Method::Get {
            return html(405, error_page("only GET is served"));
        }
        let url = url.split(['?', '#']).next().unwrap_or("");
        let bounds = self.config.bounds.to_string();
        if url == "/" {
            return html(303, String::new()).with_header(header("Location", "/steps"));
        }
        if let Some(rest) = url.strip_prefix("/api/steps") {
            return match view::parse_path(rest).and_then(|p| view::view(&self.model, &p)) {
                Ok(v) => Response::from_string(serde_json::to_string(&v).unwrap_or_default())
                    .with_header(header("Content-Type", "application/json")),
                Err(e) => Response::from_string(serde_json::json!({ "error": e.to_string() }).to_string())
                    .with_status_code(404)
                    .with_header(header("Content-Type", "application/json")),
            };
        }
        if let Some(rest) = url.strip_prefix("/steps") {
            return match view::parse_path(rest).and_then(|p| view::view(&self.model, &p)) {
                Ok(v) => html(200, page(&self.title, &bounds, &v)),
                Err(e @ ViewError::TooLong(_) | e @ ViewError::NotAnIndex(_)) => {
                    html(400, error_page(&e.to_string()))
                }
                Err(e) => html(404, error_page(&e.to_string())),
            };
        }
        if let Some(name) = url.strip_prefix("/trace/") {
            return match self.trace(name, EXAMPLE_SEARCH_LIMIT) {
                Ok(Some(path)) => html(303, String::new()).with_header(header("Location", &steps_url(&path))),
                Ok(None) => html(
                    404,
                    error_page(&format!(
                        "no trace of {name} within {EXAMPLE_SEARCH_LIMIT} states (`ee2e check` searches further)"
                    )),
                ),
                Err(e) => html(404, error_page(&e)),
            };
        }
        html(404, error_page(&format!("nothing at {url}")))
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}

/// Runs `ee2e explore` until interrupted.
pub fn run(args: &ExploreArgs) -> ExitCode {
    let explorer = Arc::new(Explorer::new(config(args)));
    let trace = match &args.trace {
        Some(name) => match explorer.trace(name, TRACE_SEARCH_LIMIT) {
            Ok(Some(path)) => Some(path),
            Ok(None) => {
                eprintln!("ee2e explore: no trace of {name} within {TRACE_SEARCH_LIMIT} states");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("ee2e explore: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let server = match Server::http(("127.0.0.1", args.port)) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("ee2e explore: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let Some(port) = server.server_addr().to_ip().map(|a| a.port()) else {
        eprintln!("ee2e explore: the server has no IP address");
        return ExitCode::FAILURE;
    };
    println!("Explorer for {} ({}): http://127.0.0.1:{port}/steps", explorer.title, explorer.config.bounds);
    if let (Some(name), Some(path)) = (&args.trace, &trace) {
        println!("shortest trace of {name}: http://127.0.0.1:{port}{}", steps_url(path));
    }
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (server, explorer) = (Arc::clone(&server), Arc::clone(&explorer));
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let response = explorer.respond(request.method(), request.url());
                    if let Err(e) = request.respond(response) {
                        tracing::debug!(error = %e, "explorer: client went away");
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    ExitCode::SUCCESS
}
