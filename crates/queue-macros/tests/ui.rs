//! Compile errors of `#[derive(JobArgs)]`, compared with `tests/ui/*.stderr`.
//!
//! After a deliberate change of a message: `TRYBUILD=overwrite cargo test -p queue-macros
//! --test ui`, then review the diff of the `.stderr` files.

#[test]
fn compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
