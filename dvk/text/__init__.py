"""Vietnamese text (văn bản tiếng Việt), pure and without I/O: `normalize` (NFC, folding for
duplicates, CLDR "vi" collation, personal-name order), `dates` (dd/mm/yyyy, Decree-30 date lines),
`legacy` (TCVN3/ABC and VNI to Unicode), `safety` (length limits, control characters refused at
input and shown visibly at output). Nothing is imported here: `dvk --help` loads only what it uses.
"""
