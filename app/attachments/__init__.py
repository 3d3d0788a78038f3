"""Files a person attaches to a message: which types are allowed (the
server's own list, never the client's word), checking an upload against the
operator's limits, images decoded within a pixel limit with metadata-free
thumbnails, and turning a stored turn's files into what a model reads
(LangChain content blocks for Gemini; text for the offline model).

Knows neither HTTP nor the database: app/web reads the uploads, and
app/storage/attachment_store.py keeps them.
"""
