//! A plain-text table: a header line and one line per row, columns padded to their
//! widest cell, no trailing spaces.

pub fn table<R: AsRef<[S]>, S: AsRef<str>>(columns: &[&str], rows: &[R]) -> String {
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.as_ref().get(i))
                .map(|c| c.as_ref().chars().count())
                .chain([columns[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text =
        String::with_capacity((widths.iter().sum::<usize>() + 2 * widths.len()) * (rows.len() + 1));
    let mut line = |values: &mut dyn Iterator<Item = &str>| {
        for (value, width) in values.zip(&widths) {
            text.push_str(value);
            let pad = width.saturating_sub(value.chars().count()) + 2;
            text.extend(std::iter::repeat_n(' ', pad));
        }
        text.truncate(text.trim_end_matches(' ').len());
        text.push('\n');
    };
    line(&mut columns.iter().copied());
    for row in rows {
        line(&mut row.as_ref().iter().map(AsRef::as_ref));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_columns_to_the_widest_cell() {
        let rows = vec![vec!["checkout".to_string(), "1.2.0".to_string()]];
        assert_eq!(
            super::table(&["APP", "VERSION"], &rows),
            "APP       VERSION\ncheckout  1.2.0\n"
        );
    }
}
