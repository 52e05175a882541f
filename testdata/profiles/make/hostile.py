# Hostile XLSX workbooks for the profile reader tests (Python standard library only):
#   cd ../hostile && python ../make/hostile.py
import zipfile, sys
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
def book(path, sheets, compress=zipfile.ZIP_DEFLATED):
    ws, rels, types = "", "", ""
    parts = {}
    for i, (name, data, state) in enumerate(sheets, 1):
        ws += f'<sheet name="{name}" sheetId="{i}" state="{state}" r:id="rId{i}"/>'
        rels += f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
        types += f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        parts[f"xl/worksheets/sheet{i}.xml"] = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {NS}><sheetData>{data}</sheetData></worksheet>'
    parts["xl/workbook.xml"] = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook {NS} {R}><sheets>{ws}</sheets></workbook>'
    parts["xl/_rels/workbook.xml.rels"] = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>'
    parts["_rels/.rels"] = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    parts["[Content_Types].xml"] = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{types}</Types>'
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 12, 1, 0, 0, 0))
            info.compress_type = compress
            z.writestr(info, body)
def row(r, cells):
    return f'<row r="{r}">' + "".join(
        f'<c r="{chr(65 + i)}{r}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(cells) if v) + "</row>"
header = ["Tranzaksiya ID", "To'lov maqsadi", "Karta raqami", "Summa", "Komissiya", "Valyuta", "Holati", "Sana"]
# A sheet part of 256 MiB of blanks after the header: deflates about a thousand times.
book("humo-bomb.xlsx", [("Hisobot", row(4, header) + " " * (256 << 20), "visible")])
# The report's sheet hidden behind no other: the first sheet is hidden.
book("humo-hidden.xlsx", [("Hisobot", row(4, header), "hidden"), ("Bo'sh", "", "visible")])
