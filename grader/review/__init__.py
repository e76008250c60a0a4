"""The review workbench (``grader review``): a local web app where reviewers grade the written
answers of a graded folder, by question, with reusable rubric items."""
