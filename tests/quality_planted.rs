//! `rolo quality --json` on generated customers with planted defects: every
//! defect count equals what the generator planted (seeded, several sizes).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Env, figure_count as count, quality_field as field};

const AS_OF: &str = "2024-06-30";

/// A tiny deterministic generator (the tests must not depend on `rand`).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// One of `n` outcomes.
    fn pick(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the generator planted.
#[derive(Debug, Default, PartialEq)]
struct Truth {
    email: [u64; 3],
    phone: [u64; 3],
    birth: [u64; 3],
    /// Customers with a bad value in any field (an order before signing up
    /// counts: `invalid:order_date`).
    any_invalid: u64,
    order_before_signup: u64,
    no_tag_no_order: u64,
}

/// Writes customers and orders with planted defects; returns the truth as
/// [filled valid, invalid, empty] per field.
fn generate(env: &Env, n: usize, seed: u64) -> Truth {
    let mut rng = Lcg(seed);
    let mut t = Truth::default();
    let mut customers = String::from("ext_id,name,email,phone,birth_date,created_at\n");
    let mut orders = String::from("order_id,customer_id,order_date,amount\n");
    for i in 0..n {
        let mut bad = false;
        let email = match rng.pick(3) {
            0 => {
                t.email[0] += 1;
                format!("person{i}@example.com")
            }
            1 => {
                t.email[1] += 1;
                bad = true;
                format!("person{i}(at)example.com")
            }
            _ => {
                t.email[2] += 1;
                String::new()
            }
        };
        let phone = match rng.pick(3) {
            0 => {
                t.phone[0] += 1;
                format!("138{:08}", rng.pick(100_000_000))
            }
            1 => {
                t.phone[1] += 1;
                bad = true;
                "12345".to_owned()
            }
            _ => {
                t.phone[2] += 1;
                String::new()
            }
        };
        // Valid, in the future (stored, invalid as of AS_OF), absurd (kept
        // aside by the importer), or empty.
        let birth = match rng.pick(4) {
            0 => {
                t.birth[0] += 1;
                format!(
                    "19{:02}-0{}-1{}",
                    50 + rng.pick(50),
                    1 + rng.pick(9),
                    rng.pick(10)
                )
            }
            1 => {
                bad = true;
                t.birth[1] += 1;
                "2090-05-05".to_owned()
            }
            2 => {
                bad = true;
                t.birth[1] += 1;
                "1850-01-01".to_owned()
            }
            _ => {
                t.birth[2] += 1;
                String::new()
            }
        };
        customers.push_str(&format!(
            "G{i},Person {i},{email},{phone},{birth},2024-03-01\n"
        ));
        match rng.pick(3) {
            0 => {
                // Ordered before signing up: an invalid order date too.
                bad = true;
                t.order_before_signup += 1;
                orders.push_str(&format!("O{i},G{i},2024-01-15,10\n"));
            }
            1 => orders.push_str(&format!("O{i},G{i},2024-04-15,10\n")),
            _ => t.no_tag_no_order += 1,
        }
        t.any_invalid += u64::from(bad);
    }
    env.import("customers", &env.write("c.csv", customers));
    env.import("orders", &env.write("o.csv", orders));
    // The future birth date counts as filled (stored) and invalid.
    t
}

#[test]
fn every_planted_defect_is_counted_exactly() {
    for (n, seed) in [(60, 1), (400, 7), (1500, 42)] {
        let env = Env::new();
        let t = generate(&env, n, seed);
        let r = env.json(&["quality", "--as-of", AS_OF]);
        assert_eq!(r["customers"], n as u64);
        let email = field(&r, "email");
        assert_eq!(count(&email["filled"]), t.email[0], "email filled, n={n}");
        assert_eq!(count(&email["invalid"]), t.email[1], "email invalid, n={n}");
        let phone = field(&r, "phone");
        assert_eq!(count(&phone["filled"]), t.phone[0], "phone filled, n={n}");
        assert_eq!(count(&phone["invalid"]), t.phone[1], "phone invalid, n={n}");
        let birth = field(&r, "birth_date");
        let future = {
            // Future dates are stored, so they are "filled" as well.
            let text = std::fs::read_to_string(env.path("c.csv")).unwrap();
            text.lines().filter(|l| l.contains("2090-05-05")).count() as u64
        };
        assert_eq!(
            count(&birth["filled"]),
            t.birth[0] + future,
            "birth filled, n={n}"
        );
        assert_eq!(count(&birth["invalid"]), t.birth[1], "birth invalid, n={n}");
        assert_eq!(count(&r["invalid"]), t.any_invalid, "any invalid, n={n}");
        assert_eq!(
            count(&r["order_before_signup"]),
            t.order_before_signup,
            "order before signup, n={n}"
        );
        assert_eq!(count(&r["no_tag_no_order"]), t.no_tag_no_order, "n={n}");
        // And each count is what its query finds.
        let hits = env.json(&["search", "invalid:any", "--limit", "1", "--as-of", AS_OF]);
        assert_eq!(hits["total"].as_u64(), Some(t.any_invalid));
    }
}
