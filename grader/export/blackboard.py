"""Blackboard Learn (Original): the Grade Center upload file (Work Offline → Upload).

Blackboard's help ("Uploading or Downloading Grade Center Items for Working Offline",
library.blackboard.com): the student is identified by Username and each existing column by its
Column ID; a column without an id is created as a new text column worth 0 points; tab-delimited
files need no quote characters and are the recommended form. The header of an existing column
is the one of the Grade Center's own download, ``Title [Total Pts: 100 Score] |1702852`` (title,
points, display type, then the column id after ``|``; nbeaver/offline-grades-upload
``readme.rst`` shows the older ``Quiz 3 [Total Pts: 10] |664617``, and ``01.tsv``: ``Last Name,
First Name, Username, <column>``). Blackboard's importer is closed source: whether an empty cell
clears a grade cannot be read there, so a student with nothing to send gets no row, as for
Canvas and Moodle.
"""

from __future__ import annotations

from grader.export.common import ExportOptions, delimited, grade, number, unsent
from grader.export.graded import Graded

HEADER = ["Last Name", "First Name", "Username"]


def column(graded: Graded, options: ExportOptions) -> str:
    title = options.title_of(graded)
    if not options.assignment_id:
        return title  # Blackboard makes a new column of it
    return f"{title} [Total Pts: {number(graded.max_score)} Score] |{options.assignment_id}"


def export(graded: Graded, options: ExportOptions) -> str:
    rows = [HEADER + [column(graded, options)]]
    for entry in graded.entries:
        if unsent(entry, options):
            continue  # an empty cell would clear the Grade Center's grade; no row keeps it
        if entry.person:
            first, last = entry.person.given_and_family
        else:
            first, last = "", entry.origin.display_name
        username = entry.student  # the Blackboard username the download named files by
        rows.append([last, first, username, grade(entry, options)])
    return delimited(rows, "\t")
