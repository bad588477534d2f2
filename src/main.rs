fn main() -> std::process::ExitCode {
    relctl::main()
}
