//! Compile-time errors of the macros, each pointing at the user's token (`tests/ui/fail`).

#[test]
fn compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}
