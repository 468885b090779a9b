//! LATENCY GRAPH: an event's samples as Redis draws them, a filled ASCII sparkline 4 rows
//! high and at most 80 columns wide (one column per sample, oldest first), each column
//! labelled with how long ago it was sampled. The same drawing as Redis' for the same
//! samples, so tools that show it see what they expect.

use super::Series;

const COLUMNS: usize = 80;
const ROWS: usize = 4;
/// The fill characters from the lowest to the highest third of a row.
const FILL: &[u8] = b"_o#";
/// Blank rows between the graph and the labels.
const LABEL_MARGIN: usize = 1;

/// The graph of `event`'s `series` at Unix time `now`.
pub fn render(event: &str, series: &Series, now: u64) -> String {
    let values: Vec<u64> = series.samples.iter().map(|s| s.latency).collect();
    let labels: Vec<Vec<u8>> = series
        .samples
        .iter()
        .map(|s| ago(now as i64 - s.time as i64).into_bytes())
        .collect();
    let (low, high) = (
        values.iter().copied().min().unwrap_or(0),
        values.iter().copied().max().unwrap_or(0),
    );
    let mut out = format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n{}\n",
        series.max,
        "-".repeat(COLUMNS)
    );
    for (i, start) in (0..values.len()).step_by(COLUMNS).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let end = (start + COLUMNS).min(values.len());
        draw(
            &mut out,
            &values[start..end],
            &labels[start..end],
            low,
            high,
        );
    }
    out
}

/// "12s", "5m", "3h", "2d": how long ago, in the largest unit that fits.
fn ago(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Draws one strip of columns: ROWS rows of the sparkline (a column's height in thirds of
/// a row, scaled between the lowest and the highest sample of the whole graph), a blank
/// row, then the labels written downwards.
fn draw(out: &mut String, values: &[u64], labels: &[Vec<u8>], low: u64, high: u64) {
    let steps = (FILL.len() * ROWS) as i64;
    let range = if high == low {
        1.0
    } else {
        (high - low) as f64
    };
    // Redis truncates twice: the scaled value to an integer, then its division.
    let heights: Vec<i64> = values
        .iter()
        .map(|&v| ((((v - low) as f64 * steps as f64) as i64) as f64 / range) as i64)
        .map(|h| h.clamp(0, steps - 1))
        .collect();
    for row in 0..ROWS {
        let line: String = heights
            .iter()
            .map(|&h| {
                let third = h - ((ROWS - row - 1) * FILL.len()) as i64;
                match third {
                    t if t < 0 => ' ',
                    t if (t as usize) < FILL.len() => FILL[t as usize] as char,
                    _ => '|',
                }
            })
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
    for _ in 0..LABEL_MARGIN {
        out.push_str(&" ".repeat(values.len()));
        out.push('\n');
    }
    let longest = labels.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        let line: String = labels
            .iter()
            .map(|l| l.get(i).map_or(' ', |&c| c as char))
            .collect();
        out.push_str(&line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::series;
    use super::*;

    #[test]
    fn draws_as_redis() {
        // Redis 7 drew this for two DEBUG SLEEPs (300 ms, then 150 ms a second later).
        let g = render("command", &series(&[(1000, 300), (1001, 150)], 300), 1001);
        let expected = format!(
            "command - high 300 ms, low 150 ms (all time high 300 ms)\n{}\n\
             # \n| \n| \n|_\n  \n10\nss\n",
            "-".repeat(80)
        );
        assert_eq!(g, expected);
    }

    #[test]
    fn heights_in_thirds_of_a_row_and_labels_by_age() {
        let g = render(
            "x",
            &series(&[(0, 0), (3540, 4), (3599, 8), (3600, 12)], 12),
            3600,
        );
        let rows: Vec<&str> = g.lines().skip(2).collect();
        assert_eq!(rows[..4], ["   #", "  #|", " o||", "_|||"]);
        assert_eq!(rows[4], "    ");
        assert_eq!(rows[5..], ["1110", "hmss"]);
    }

    #[test]
    fn equal_samples_and_long_histories() {
        let flat: Vec<(u64, u64)> = (0..160).map(|t| (t, 7)).collect();
        let g = render("e", &series(&flat, 7), 160);
        let strips: Vec<&str> = g.split("\n\n").collect();
        assert_eq!(strips.len(), 2, "80 columns a strip: {g}");
        assert!(g.lines().nth(2).unwrap().chars().all(|c| c == ' '));
        assert!(g.lines().nth(5).unwrap().chars().all(|c| c == '_'));
    }
}
