//! The macros at compile time: what they accept (`tests/ui/pass`, built and run) and every
//! error they report, each pointing at the user's token (`tests/ui/fail`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
