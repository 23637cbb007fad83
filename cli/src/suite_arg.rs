//! `--suite <rust-crypto|aws-lc>`: which concrete crypto suite a subcommand runs on.

/// The concrete suite to run on (`ee2e::SuiteKind`); `aws-lc` needs a build with
/// `--features aws-lc`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SuiteArg {
    /// RustCrypto (`rsa`, `aes`, `hmac`, `sha2`, `pbkdf2`, `hkdf`): the default.
    #[default]
    RustCrypto,
    /// AWS-LC through aws-lc-rs.
    AwsLc,
}

impl From<SuiteArg> for ee2e::SuiteKind {
    fn from(arg: SuiteArg) -> Self {
        match arg {
            SuiteArg::RustCrypto => ee2e::SuiteKind::RustCrypto,
            SuiteArg::AwsLc => ee2e::SuiteKind::AwsLc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn the_command_line_names_are_the_suites_names() {
        for arg in SuiteArg::value_variants() {
            let name = arg.to_possible_value().expect("named").get_name().to_owned();
            assert_eq!(name, ee2e::SuiteKind::from(*arg).name());
        }
    }
}
