//! The overall summary sentence of the letter, from the bands of the scored benchmarks, in the
//! Home Office's register: "Overall, Dorset Council is exceeding the requirements of the Prevent
//! Duty in most areas and meeting them in some."

use super::Band;

/// The verb phrase of a band, as in "is exceeding the requirements".
fn verb(band: Band) -> &'static str {
    match band {
        Band::Exceeding => "exceeding",
        Band::Meeting => "meeting",
        Band::NotMeeting => "not meeting",
    }
}

fn number(n: usize) -> String {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// The sentence for `subject` ("Dorset Council") given the band of every scored benchmark.
/// Benchmarks not scored are simply not passed in.
pub fn summary(subject: &str, bands: &[Band]) -> String {
    let total = bands.len();
    if total == 0 {
        return format!(
            "No benchmark of {subject} has been scored, so there is no overall summary."
        );
    }
    // The bands present, largest share first; ties in the order exceeding, meeting, not meeting.
    let mut groups: Vec<(Band, usize)> = [Band::Exceeding, Band::Meeting, Band::NotMeeting]
        .into_iter()
        .map(|band| (band, bands.iter().filter(|b| **b == band).count()))
        .filter(|(_, count)| *count > 0)
        .collect();
    groups.sort_by_key(|(_, count)| std::cmp::Reverse(*count));

    let opening = |band: Band, place: &str| {
        format!(
            "Overall, {subject} is {} the requirements of the Prevent Duty {place}",
            verb(band)
        )
    };

    if let [(band, _)] = groups[..] {
        let place = match (band, total) {
            (Band::NotMeeting, 1) => "in the one area scored",
            (Band::NotMeeting, _) => "in any of the areas scored",
            (_, 1) => "in the one area scored",
            _ => "in all areas",
        };
        return format!("{}.", opening(band, place));
    }

    let (first_band, first_count) = groups[0];
    let majority = first_count * 2 > total;
    let halves = groups.len() == 2 && first_count * 2 == total;
    let mut clauses = Vec::with_capacity(groups.len());
    let first_place = if majority {
        "in most areas".to_owned()
    } else if first_count * 2 == total {
        "in half of the areas".to_owned()
    } else {
        let noun = if first_count == 1 { "area" } else { "areas" };
        format!("in {} {noun}", number(first_count))
    };
    clauses.push(opening(first_band, &first_place));
    for &(band, count) in &groups[1..] {
        let place = if halves {
            "the other half".to_owned()
        } else if majority && count > 1 {
            "some".to_owned()
        } else {
            number(count)
        };
        clauses.push(format!("{} them in {place}", verb(band)));
    }
    let sentence = match clauses.as_slice() {
        [first, second] => format!("{first} and {second}"),
        [first, second, third] => format!("{first}, {second} and {third}"),
        _ => clauses.join(", "),
    };
    format!("{sentence}.")
}
