//! Where a time-ordered series shifts level: the split that best separates
//! what came before from what came after (the largest Welch t statistic
//! over every split), found again on each side (binary segmentation).
//!
//! A split is accepted only when it is both clear (|t| ≥ [`MIN_Z`]) and
//! large (the two sides' means differ by at least [`MIN_EFFECT`]): with a
//! million traces, a shift of one per cent is "significant" but is not an
//! incident. Callers pass log-scale values, so the effect is a ratio.

/// The least points on either side of a split.
pub const MIN_SIDE: usize = 20;

/// The least |t| of an accepted split: the "high confidence" bar the
/// suspects use too, not fitted to any data set.
pub const MIN_Z: f64 = 5.0;

/// The least difference of the sides' means: ln(1.25), so on log values a
/// change of at least a quarter (up) or a fifth (down).
pub const MIN_EFFECT: f64 = 0.223_143_551_314_209_7;

/// One accepted split of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shift {
    /// The first index of the part after the shift.
    pub index: usize,
    /// Welch's t of after against before (positive: the series rose).
    pub z: f64,
    /// The mean before the shift (within the segment it was found in).
    pub before: f64,
    /// The mean after it.
    pub after: f64,
    /// The stretch of the series it was found in: `from..to`.
    pub from: usize,
    /// See `from`.
    pub to: usize,
}

/// Up to `max` accepted shifts of `values`, by index, splitting only where
/// `cut(k)` allows (between two distinct times, say).
pub fn shifts(values: &[f64], max: usize, cut: &dyn Fn(usize) -> bool) -> Vec<Shift> {
    let mut found = Vec::new();
    // Segments still to search, as (start, end) ranges.
    let mut pending = vec![(0, values.len())];
    while found.len() < max {
        let best = pending
            .iter()
            .enumerate()
            .filter_map(|(i, &(a, b))| strongest(&values[a..b], &|k| cut(a + k)).map(|s| (i, a, s)))
            .max_by(|x, y| x.2.z.abs().total_cmp(&y.2.z.abs()));
        let Some((i, offset, shift)) = best else {
            break;
        };
        let (a, b) = pending.swap_remove(i);
        let at = offset + shift.index;
        found.push(Shift {
            index: at,
            from: a,
            to: b,
            ..shift
        });
        pending.extend([(a, at), (at, b)]);
    }
    found.sort_by_key(|s| s.index);
    found
}

/// The accepted split of `values` with the largest |t| among those `cut`
/// allows, if any.
pub fn strongest(values: &[f64], cut: &dyn Fn(usize) -> bool) -> Option<Shift> {
    let n = values.len();
    if n < 2 * MIN_SIDE {
        return None;
    }
    // Centred first, so the running sums of squares lose no precision.
    let centre = values.iter().sum::<f64>() / n as f64;
    let (mut sum, mut squares) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    for (i, v) in values.iter().enumerate() {
        let v = v - centre;
        sum[i + 1] = sum[i] + v;
        squares[i + 1] = squares[i] + v * v;
    }
    let stats = |from: usize, to: usize| {
        let k = (to - from) as f64;
        let mean = (sum[to] - sum[from]) / k;
        let var = ((squares[to] - squares[from]) / k - mean * mean).max(0.0);
        (mean, var * k / (k - 1.0), k)
    };
    let mut best: Option<Shift> = None;
    for k in (MIN_SIDE..=n - MIN_SIDE).filter(|&k| cut(k)) {
        let (a, va, na) = stats(0, k);
        let (b, vb, nb) = stats(k, n);
        // A floor on the variance: two constant sides that differ are a
        // clear shift, not a division by zero.
        let se = (va / na + vb / nb).max(1e-12).sqrt();
        let z = (b - a) / se;
        if best.is_none_or(|s| z.abs() > s.z.abs()) {
            best = Some(Shift {
                index: k,
                z,
                before: a + centre,
                after: b + centre,
                from: 0,
                to: n,
            });
        }
    }
    best.filter(|s| s.z.abs() >= MIN_Z && (s.after - s.before).abs() >= MIN_EFFECT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic wobble in [-0.1, 0.1], so tests need no rng.
    fn noise(i: usize) -> f64 {
        ((i * 7919) % 201) as f64 / 1000.0 - 0.1
    }

    #[test]
    fn a_step_is_found_where_it_is() {
        let values: Vec<f64> = (0..300)
            .map(|i| if i < 120 { 0.0 } else { 1.0 } + noise(i))
            .collect();
        let s = strongest(&values, &|_| true).expect("a step of 1 over noise of 0.1");
        assert_eq!(s.index, 120);
        assert!(s.z > MIN_Z, "{s:?}");
        assert!((s.after - s.before - 1.0).abs() < 0.05, "{s:?}");
    }

    #[test]
    fn a_drop_is_a_shift_too() {
        let values: Vec<f64> = (0..100)
            .map(|i| if i < 50 { 2.0 } else { 0.5 } + noise(i))
            .collect();
        let s = strongest(&values, &|_| true).unwrap();
        assert_eq!(s.index, 50);
        assert!(s.z < -MIN_Z);
    }

    #[test]
    fn noise_alone_and_small_steps_are_not_shifts() {
        let flat: Vec<f64> = (0..1000).map(noise).collect();
        assert_eq!(strongest(&flat, &|_| true), None);
        // Clear (many points) but small: a tenth is under MIN_EFFECT.
        let small: Vec<f64> = (0..100_000)
            .map(|i| if i < 50_000 { 0.0 } else { 0.1 } + noise(i))
            .collect();
        let s = strongest(&small, &|_| true);
        assert_eq!(s, None, "a 10% shift is not an incident");
    }

    #[test]
    fn too_few_points_give_nothing() {
        let values: Vec<f64> = (0..2 * MIN_SIDE - 1)
            .map(|i| if i < MIN_SIDE { 0.0 } else { 5.0 })
            .collect();
        assert_eq!(strongest(&values, &|_| true), None);
    }

    #[test]
    fn an_incident_that_ends_has_two_shifts() {
        let values: Vec<f64> = (0..600)
            .map(|i| if (200..400).contains(&i) { 1.5 } else { 0.0 } + noise(i))
            .collect();
        let found = shifts(&values, 3, &|_| true);
        let at: Vec<usize> = found.iter().map(|s| s.index).collect();
        assert_eq!(at, [200, 400], "{found:?}");
        assert!(found[0].z > 0.0 && found[1].z < 0.0);
        // Each is measured within the stretch it was found in.
        let stretches: Vec<(usize, usize)> = found.iter().map(|s| (s.from, s.to)).collect();
        assert!(stretches.contains(&(0, 600)), "{found:?}");
    }

    #[test]
    fn no_split_falls_between_equal_times() {
        // The step is at 100, but points 95..105 share one time: the only
        // splits allowed there are at 95 and 105.
        let values: Vec<f64> = (0..200)
            .map(|i| if i < 100 { 0.0 } else { 1.0 } + noise(i))
            .collect();
        let time = |k: usize| if (95..105).contains(&k) { 95 } else { k };
        let s = strongest(&values, &|k| time(k - 1) != time(k)).unwrap();
        assert!(s.index == 95 || s.index == 105, "{s:?}");
    }

    proptest! {
        /// Whatever the values, a shift leaves MIN_SIDE points each side
        /// and meets both bars.
        #[test]
        fn shifts_respect_their_bars(values in prop::collection::vec(-1e6f64..1e6, 0..200)) {
            for s in shifts(&values, 4, &|_| true) {
                prop_assert!(s.index >= MIN_SIDE && s.index + MIN_SIDE <= values.len());
                prop_assert!(s.z.abs() >= MIN_Z);
                prop_assert!((s.after - s.before).abs() >= MIN_EFFECT);
            }
        }
    }
}
