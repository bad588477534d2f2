//! relctl-bench: the Rust half of the benchmarks (bench/run is the whole of them).
//! It serves the platform double, generates records branches of many releases through
//! relctl's own record code, and times rollbacks against the double in-process.
//!
//! Built as a `[[bench]]` target (harness = false) so it can use the library and its
//! dependencies without adding a binary to the package; `cargo bench` alone only
//! points at bench/run.

mod generate;
mod org;
mod platform;
mod rollback;
mod seal;

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "relctl-bench",
    about = "Benchmark helpers for relctl (see bench/run)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Passed by `cargo bench`
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the platform double; prints its URL, stops when stdin closes
    Serve,
    /// Write a plan pointed at API into DIR/release.yaml
    Plan { dir: PathBuf, api: String },
    /// Make a records repository of N releases at DIR
    Generate {
        #[arg(long)]
        relctl: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        releases: usize,
        /// Release files per commit
        #[arg(long, default_value_t = 5000)]
        per_commit: usize,
    },
    /// Add APPS apps of RELEASES releases each (4 environments) to the records branch at
    /// DIR, straight into git objects; DIR is made when it is not a repository
    Org {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        apps: usize,
        #[arg(long)]
        releases: usize,
    },
    /// Check that sampled record files read back byte for byte as relctl writes them
    Verify {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 200)]
        sample: usize,
    },
    /// Note the records branch's tip and the packs of the repository at DIR
    Seal { dir: PathBuf },
    /// Put the repository at DIR back as `seal` found it (branch and packs)
    Reset { dir: PathBuf },
    /// Time `relctl rollback --env production` against the records at DIR
    Rollback {
        #[arg(long)]
        relctl: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 10)]
        runs: usize,
        #[arg(long, default_value_t = 2)]
        warmup: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            eprintln!(
                "relctl-bench is driven by bench/run: run `bench/run` from the repository root"
            );
            return ExitCode::SUCCESS;
        }
        Some(command) => run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("relctl-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Cmd) -> anyhow::Result<()> {
    match command {
        Cmd::Serve => {
            let platform = platform::Platform::start()?;
            println!("{}", platform.url());
            // Until whoever started us closes our stdin (or kills us).
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        }
        Cmd::Plan { dir, api } => {
            generate::write_plan(&dir, &api)?;
        }
        Cmd::Generate {
            relctl,
            dir,
            releases,
            per_commit,
        } => {
            let generated = generate::generate(&relctl, &dir, releases, per_commit.max(1))?;
            println!("{}", generated.json());
        }
        Cmd::Org {
            dir,
            apps,
            releases,
        } => println!("{}", org::generate(&dir, apps, releases)?),
        Cmd::Verify { dir, sample } => generate::verify(&dir, sample)?,
        Cmd::Seal { dir } => seal::seal(&dir)?,
        Cmd::Reset { dir } => seal::reset(&dir)?,
        Cmd::Rollback {
            relctl,
            dir,
            runs,
            warmup,
        } => println!("{}", rollback::measure(&relctl, &dir, runs.max(1), warmup)?),
    }
    Ok(())
}
