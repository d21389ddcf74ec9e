"""What the views show, as data without a UI: the timeline's compact columns, the filter
language, and playback (which rows a replay has revealed so far)."""
