# Writes testdata/profiles/humo-2026-11.xlsx, the sample of the HUMO profile in
# schemas/providers.example.toml (xlsxwriter 3.3):  python humo-sample.py ../humo-2026-11.xlsx
import datetime, sys
import xlsxwriter

wb = xlsxwriter.Workbook(sys.argv[1])
wb.set_properties({"created": datetime.datetime(2026, 11, 7, 9, 0, 0)})
ws = wb.add_worksheet("Hisobot")
bold = wb.add_format({"bold": True})
money = wb.add_format({"num_format": "#,##0.00"})
day = wb.add_format({"num_format": "dd.mm.yyyy"})
ws.merge_range("A1:H1", "HUMO to'lovlar hisoboti, noyabr 2026", bold)
ws.write(1, 0, "Tuzilgan: 07.11.2026")
ws.write_row(3, 0, ["Tranzaksiya ID", "To'lov maqsadi", "Karta raqami", "Summa", "Komissiya", "Valyuta", "Holati", "Sana"], bold)
rows = [
    ("HU-1101", "Nafaqa UZ-EP-2026-11-000000021", "9860100200000021", -500000, ("=-D5*0.005", 2500), "UZS", "Muvaffaqiyatli", datetime.datetime(2026, 11, 4)),
    ("HU-1102", "Nafaqa UZ-EP-2026-11-000000022", "9860100200000022", -650000.5, 0, "UZS", "Rad etildi", datetime.datetime(2026, 11, 4)),
]
for i, (ref, purpose, card, amount, fee, cur, status, date) in enumerate(rows):
    r = 4 + i
    ws.write_string(r, 0, ref)
    ws.write_string(r, 1, purpose)
    ws.write_string(r, 2, card)
    ws.write_number(r, 3, amount, money)
    if isinstance(fee, tuple):
        ws.write_formula(r, 4, fee[0], money, fee[1])
    else:
        ws.write_number(r, 4, fee, money)
    ws.write_string(r, 5, cur)
    ws.write_string(r, 6, status)
    ws.write_datetime(r, 7, date, day)
ws.write_string(6, 0, "Jami")
ws.write_formula(6, 3, "=SUM(D5:D6)", money, -1150000.5)
wb.close()
