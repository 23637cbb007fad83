use ee2e_model::{Bounds, Config, Scenario, Threat, run::run};
use ee2e_spec::Profile;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let profile = Profile::parse(&args[1]).unwrap();
    let scenario = Scenario::parse(&args[2]).unwrap();
    let threat = Threat::parse(args.get(3).map(|s| s.as_str()).unwrap_or("network")).unwrap();
    let inj: u8 = args.get(4).map(|s| s.parse().unwrap()).unwrap_or(2);
    let r =
        run(Config { profile, threat, scenario, bounds: Bounds { injections: inj, ..Bounds::default() } }, 2);
    println!(
        "{} {} {}: states {} unique {} depth {} {:.1}s",
        r.profile, r.scenario, r.threat, r.states, r.unique_states, r.max_depth, r.seconds
    );
    for p in &r.properties {
        println!("  {:28} {:?}", p.name, p.status);
        if matches!(p.status, ee2e_model::run::Status::Violated) {
            for s in &p.trace {
                println!("      {}. {}", s.n, s.action);
            }
        }
    }
}
