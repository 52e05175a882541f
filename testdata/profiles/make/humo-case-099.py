# Writes testdata/cases/099-v2-profile-xlsx/settlements/humo-2026-12.xlsx (xlsxwriter 3.3):
#   python humo-case-099.py ../../cases/099-v2-profile-xlsx/settlements/humo-2026-12.xlsx
import datetime, sys
import xlsxwriter

out = sys.argv[1]
wb = xlsxwriter.Workbook(out)
wb.set_properties({"created": datetime.datetime(2026, 12, 8, 9, 0, 0)})
hidden = wb.add_worksheet("Sozlamalar")
hidden.write(0, 0, "ichki sozlamalar")
hidden.hide()
ws = wb.add_worksheet("Hisobot")
ws.activate()
ws.set_first_sheet()
bold = wb.add_format({"bold": True})
money = wb.add_format({"num_format": "#,##0.00"})
stamp = wb.add_format({"num_format": "dd.mm.yyyy hh:mm"})
day = wb.add_format({"num_format": "dd.mm.yyyy"})
ws.merge_range("A1:H1", "HUMO to'lovlar hisoboti, dekabr 2026", bold)
ws.write(1, 0, "Tuzilgan: 08.12.2026")
header = ["Tranzaksiya ID", "To'lov maqsadi", "Karta raqami", "Summa", "Komissiya", "Valyuta", "Holati", "Sana"]
ws.write_row(3, 0, header, bold)
rows = [
    ("HU-901", "Nafaqa UZ-EP-2026-12-000000901 Karimov", "9860100200000901", -750000, ("=-D5*0.005", 3750), "UZS", "Muvaffaqiyatli", datetime.datetime(2026, 12, 5, 10, 15), stamp),
    ("HU-902", "Nafaqa UZ-EP-2026-12-000000902", "9860100200000902", -900000, 0, "UZS", "Rad etildi", datetime.datetime(2026, 12, 5), day),
    ("HU-903", "UZ-EP-2026-12-000000903", "9860100200000903", ("=-1250000-0.005", -1250000.005), 0, "UZS", "Muvaffaqiyatli", datetime.datetime(2026, 12, 5), day),
    ("HU-904", "Nafaqa UZ-EP-2026-12-000000904", 9860100200000904, -300000, 1500, "UZS", "Muvaffaqiyatli", "06.12.2026", None),
    ("HU-905", "Nafaqa UZ-EP-2026-12-000000905", "9860100200000905", -500000, 2500, "UZS", "Muvaffaqiyatli", 46361, None),
    ("HU-906", "Qaytarish UZ-EP-2026-12-000000901", "9860100200000901", 750000, 0, "UZS", "Qaytarildi", datetime.datetime(2026, 12, 7), day),
]
for i, (ref, purpose, card, amount, fee, cur, status, date, datefmt) in enumerate(rows):
    r = 4 + i
    ws.write_string(r, 0, ref)
    ws.write_string(r, 1, purpose)
    if isinstance(card, str):
        ws.write_string(r, 2, card)
    else:
        ws.write_number(r, 2, card)
    for col, v in ((3, amount), (4, fee)):
        if isinstance(v, tuple):
            ws.write_formula(r, col, v[0], money, v[1])
        else:
            ws.write_number(r, col, v, money)
    ws.write_string(r, 5, cur)
    ws.write_string(r, 6, status)
    if isinstance(date, datetime.datetime):
        ws.write_datetime(r, 7, date, datefmt)
    elif isinstance(date, str):
        ws.write_string(r, 7, date)
    else:
        ws.write_number(r, 7, date)
last = 4 + len(rows)
ws.write_string(last, 0, "Jami")
ws.write_formula(last, 3, "=SUM(D5:D10)", money, -2950000.005)
ws.write_formula(last, 4, "=SUM(E5:E10)", money, 7750)
wb.close()
