"""Blackboard Learn (Original): the Grade Center upload file (Work Offline → Upload).

Blackboard's help ("Uploading or Downloading Grade Center Items for Working Offline",
library.blackboard.com): the student is identified by Username and each existing column by its
Column ID; a column without an id is created as a new text column worth 0 points; tab-delimited
files need no quote characters and are the recommended form. The header of an existing column
is ``Title [Total Pts: 10] |664617`` (as in the Grade Center's own download; example files in
nbeaver/offline-grades-upload ``01.tsv``: ``Last Name, First Name, Username, <column>``).
"""

from __future__ import annotations

from grader.export.common import ExportOptions, delimited, grade, number
from grader.export.graded import Graded

HEADER = ["Last Name", "First Name", "Username"]


def column(graded: Graded, options: ExportOptions) -> str:
    title = options.title_of(graded)
    if not options.assignment_id:
        return title  # Blackboard makes a new column of it
    return f"{title} [Total Pts: {number(graded.max_score)}] |{options.assignment_id}"


def export(graded: Graded, options: ExportOptions) -> str:
    rows = [HEADER + [column(graded, options)]]
    for entry in graded.entries:
        if entry.person:
            first, last = entry.person.given_and_family
        else:
            first, last = "", entry.origin.display_name
        username = entry.student  # the Blackboard username the download named files by
        if entry.result is None and entry.person:
            username = entry.person.id
        rows.append([last, first, username, grade(entry, options)])
    return delimited(rows, "\t")
