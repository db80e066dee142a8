import pandas as pd

from rc_dashboard.export import to_csv_text


def test_formula_like_text_is_neutralised_but_numbers_are_not():
    frame = pd.DataFrame(
        {"location": ['=HYPERLINK("http://x")', "On or near Mill Lane", "@SUM(A1)", "+1", "-x"], "n": [1, -2, 3, 4, 5]}
    )
    lines = to_csv_text(frame).splitlines()
    assert lines[0] == "location,n"
    assert lines[1] == '"\'=HYPERLINK(""http://x"")",1'
    assert lines[2] == "On or near Mill Lane,-2"
    assert lines[3] == "'@SUM(A1),3"
    assert lines[4] == "'+1,4"
    assert lines[5] == "'-x,5"
