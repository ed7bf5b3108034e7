"""Ads: several shots of one product cut to a rhythm, an end card with price and call to action, music under it.

One concern per module: `rules` (the platforms' ad lengths and shapes), `storyboard` (the planner: shots, lengths,
placements; plain data the API can show before paying), `endcard` (the last card's layout and text), `photos`
(ingest and cutout per photo) and `render` (the storyboard into a finished, measured, signed MP4).
"""
