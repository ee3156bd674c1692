//! The main demo (grows with the project).
fn main() {}
