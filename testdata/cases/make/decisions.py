import json, os
B='/work/main/testdata/cases/'
IH='instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date'
SH='provider,provider_ref,instruction_id,account,amount,fee,currency,status,value_date'
DH='decision_id,action,provider,provider_ref,instruction_id,note,decided_by,approved_by'
def ins(n, acct, amt, due='2026-11-05'):
    return f'PAY-2611-{n},BEN-4{n[1:]},CASH_TRANSFER,2026-11,UZCARD,86001402000{acct},{amt},UZS,{due}'
def write(case, files, exp):
    d=B+case; os.makedirs(d, exist_ok=True)
    for name, lines in files.items():
        p=os.path.join(d,name); os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p,'w').write('\n'.join(lines)+'\n')
    open(d+'/expected.json','w').write(json.dumps(exp, indent=2, ensure_ascii=False)+'\n')
def I(id, status, paid, diff, n, flags, dids):
    return dict(instruction_id=id, status=status, paid_amount=paid, difference=diff, settlement_count=n, flags=flags, decision_ids=dids)
def S(ref, method, mid, flags, dids):
    return dict(provider='UZCARD', provider_ref=ref, match_method=method, matched_instruction_id=mid, flags=flags, decision_ids=dids)
def D(id, outcome, reason='', moved='', sb='', sa='', amount='', ccy='', mb='', ib='', ma='', ia='', file='decisions.csv', row=None):
    d=dict(decision_id=id, outcome=outcome, reason=reason, moved_instruction_id=moved, status_before=sb, status_after=sa, amount=amount, currency=ccy, settlement_method_before=mb, settlement_instruction_before=ib, settlement_method_after=ma, settlement_instruction_after=ia, file=file)
    if row is not None: d['row']=row
    return d

# 102: MATCH
write('102-v2-decision-match', {
 'instructions.csv':[IH, ins('010201','10201','450000.00'), ins('010202','10201','450000.00'), ins('010203','10203','450000.00'), ins('010205','10205','200000.00'), ins('010206','10206','200000.00')],
 'settlements.csv':[SH,
   'UZCARD,UZC-7710201,,8600140200010201,450000.00,,UZS,SETTLED,2026-11-05',
   'UZCARD,UZC-7710203,,8600140200010203,450000.00,,UZS,SETTLED,2026-11-06',
   'UZCARD,UZC-7710204,,8600140200019999,300000.00,,UZS,SETTLED,2026-11-05',
   'UZCARD,UZC-7710205,PAY-2611-010206,8600140200010205,200000.00,,UZS,SETTLED,2026-11-05'],
 'decisions.csv':[DH,
   "D-102-1,MATCH,UZCARD,UZC-7710201,PAY-2611-010202,household card: the second beneficiary's payment,aziz.k,dilnoza.r",
   'D-102-2,MATCH,UZCARD,UZC-7710204,PAY-2611-010203,paid to the old card (bank letter 14/11),aziz.k,dilnoza.r',
   'D-102-3,MATCH,UZCARD,UZC-7710205,PAY-2611-010205,the bank typed the wrong reference,aziz.k,dilnoza.r'],
}, {
 "description": "C§8 MATCH: an AMBIGUOUS settlement matched by a person to one of its candidates (method MANUAL, flag MANUAL_MATCH); an unexpected settlement matched to an instruction that had a fallback match, which then counts as reference-matched for §3.2 so its fallback settlement stays unmatched (and not attributed to the decision); a settlement whose echoed reference named another instruction moved to the right one, and the instruction that lost it gets the decision's id. decisions.csv records each instruction's status without and with the decisions.",
 "exit_code": 0,
 "instructions":[
   I('PAY-2611-010201','UNPAID','0.00','-450000.00',0,'',''),
   I('PAY-2611-010202','PAID','450000.00','0.00',1,'MANUAL_MATCH','D-102-1'),
   I('PAY-2611-010203','UNDERPAID','300000.00','-150000.00',1,'ACCOUNT_MISMATCH;MANUAL_MATCH','D-102-2'),
   I('PAY-2611-010205','PAID','200000.00','0.00',1,'MANUAL_MATCH','D-102-3'),
   I('PAY-2611-010206','UNPAID','0.00','-200000.00',0,'','D-102-3')],
 "settlements":[
   S('UZC-7710201','MANUAL','PAY-2611-010202','','D-102-1'),
   S('UZC-7710203','NONE','','',''),
   S('UZC-7710204','MANUAL','PAY-2611-010203','','D-102-2'),
   S('UZC-7710205','MANUAL','PAY-2611-010205','','D-102-3')],
 "rejects":[],
 "decisions":[
   D('D-102-1','APPLIED',moved='PAY-2611-010202',sb='UNPAID',sa='PAID',amount='450000.00',ccy='UZS',mb='NONE',ma='MANUAL',ia='PAY-2611-010202',row=1),
   D('D-102-2','APPLIED',moved='PAY-2611-010203',sb='PAID',sa='UNDERPAID',amount='450000.00',ccy='UZS',mb='NONE',ma='MANUAL',ia='PAY-2611-010203',row=2),
   D('D-102-3','APPLIED',moved='PAY-2611-010205',sb='UNPAID',sa='PAID',amount='200000.00',ccy='UZS',mb='REFERENCE',ib='PAY-2611-010206',ma='MANUAL',ia='PAY-2611-010205',row=3)],
 "summary":{"decisions":{"applied":3,"pending":0,"refused":0,"by_reason":{}},
            "counts":{"by_match":{"MANUAL":3,"NONE":1},"by_flag":{"ACCOUNT_MISMATCH":1,"MANUAL_MATCH":3}},
            "inputs":[{"side":"instructions"},{"side":"settlements"},{"side":"decisions","path":"decisions.csv","format":"csv","rows":3}]}
})

# 103: UNMATCH
write('103-v2-decision-unmatch', {
 'instructions.csv':[IH, ins('010301','10301','450000.00'), ins('010302','10302','450000.00')],
 'settlements.csv':[SH,
   'UZCARD,UZC-7710301,PAY-2611-010301,8600140200010301,450000.00,,UZS,SETTLED,2026-11-05',
   'UZCARD,UZC-7710302,,8600140200019999,100000.00,,UZS,SETTLED,2026-11-05',
   'UZCARD,UZC-7710303,,8600140200010302,450000.00,,UZS,SETTLED,2026-11-06'],
 'decisions.csv':[DH,
   'D-103-1,UNMATCH,UZCARD,UZC-7710301,,the bank credited this to a different programme,aziz.k,dilnoza.r',
   'D-103-2,UNMATCH,UZCARD,UZC-7710302,,not ours,aziz.k,dilnoza.r',
   'D-103-3,UNMATCH,UZCARD,UZC-7710303,PAY-2611-010302,coincidence of amount and card,aziz.k,dilnoza.r'],
}, {
 "description": "C§8 UNMATCH: a reference match and a fallback match undone (method NONE); the settlement takes no part in matching, so it is not fallback-matched to the instruction it names or fits; the instructions that lost them are UNPAID with the decision's id; an UNMATCH of a settlement that was unmatched anyway applies and moves nothing; an instruction_id on an UNMATCH is ignored.",
 "exit_code": 0,
 "instructions":[
   I('PAY-2611-010301','UNPAID','0.00','-450000.00',0,'','D-103-1'),
   I('PAY-2611-010302','UNPAID','0.00','-450000.00',0,'','D-103-3')],
 "settlements":[
   S('UZC-7710301','NONE','','','D-103-1'),
   S('UZC-7710302','NONE','','','D-103-2'),
   S('UZC-7710303','NONE','','','D-103-3')],
 "rejects":[],
 "decisions":[
   D('D-103-1','APPLIED',moved='PAY-2611-010301',sb='PAID',sa='UNPAID',amount='450000.00',ccy='UZS',mb='REFERENCE',ib='PAY-2611-010301',ma='NONE',row=1),
   D('D-103-2','APPLIED',mb='NONE',ma='NONE',row=2),
   D('D-103-3','APPLIED',moved='PAY-2611-010302',sb='PAID',sa='UNPAID',amount='450000.00',ccy='UZS',mb='FALLBACK',ib='PAY-2611-010302',ma='NONE',row=3)],
 "summary":{"decisions":{"applied":3,"pending":0,"refused":0},
            "counts":{"by_match":{"NONE":3}},
            "totals":{"UZS":{"unexpected_count":3,"unexpected_amount":"1000000.00","unpaid_count":2}}}
})

# 104: ACCEPT and maker-checker
write('104-v2-decision-accept-maker-checker', {
 'instructions.csv':[IH, ins('010401','10401','450000.00'), ins('010402','10402','450000.00'), ins('010403','10403','450000.00')],
 'settlements.csv':[SH,
   'UZCARD,UZC-7710402,PAY-2611-010402,8600140200010402,450000.00,,UZS,SETTLED,2026-11-05',
   'UZCARD,UZC-7710412,PAY-2611-010402,8600140200010402,450000.00,,UZS,SETTLED,2026-11-06'],
 'decisions.csv':[DH,
   'D-104-1,ACCEPT,,,PAY-2611-010401,beneficiary deceased; payment stopped,aziz.k,dilnoza.r',
   'D-104-2,ACCEPT,UZCARD,UZC-7710412,PAY-2611-010402,second payment recovered by the bank,aziz.k,dilnoza.r',
   'D-104-3,ACCEPT,,,PAY-2611-010403,,aziz.k,dilnoza.r',
   'D-104-4,ACCEPT,,,PAY-2611-010403,held for review,aziz.k,',
   'D-104-5,ACCEPT,,,PAY-2611-010403,held for review,aziz.k,aziz.k',
   'D-104-6,ACCEPT,,,PAY-2611-010403,held for review,,dilnoza.r',
   'D-104-7,ACCEPT,,,PAY-2611-010401,death certificate received,bobur.t,dilnoza.r'],
}, {
 "description": "C§8 ACCEPT and maker-checker: an accepted instruction keeps its status and gains ACCEPTED (an ACCEPT touches no settlement, so the provider fields it carries change nothing and two ACCEPTs of one instruction both apply); an ACCEPT without a note is refused (missing_field); without approved_by, or approved by its maker, a decision is pending; approved_by present and different from an empty decided_by applies, as §8 literally says.",
 "exit_code": 0,
 "instructions":[
   I('PAY-2611-010401','UNPAID','0.00','-450000.00',0,'ACCEPTED','D-104-1;D-104-7'),
   I('PAY-2611-010402','DOUBLE_PAID','900000.00','450000.00',2,'ACCEPTED','D-104-2'),
   I('PAY-2611-010403','UNPAID','0.00','-450000.00',0,'ACCEPTED','D-104-6')],
 "settlements":[
   S('UZC-7710402','REFERENCE','PAY-2611-010402','',''),
   S('UZC-7710412','REFERENCE','PAY-2611-010402','','')],
 "rejects":[],
 "decisions":[
   D('D-104-1','APPLIED',moved='PAY-2611-010401',sb='UNPAID',sa='UNPAID',amount='450000.00',ccy='UZS',row=1),
   D('D-104-2','APPLIED',moved='PAY-2611-010402',sb='DOUBLE_PAID',sa='DOUBLE_PAID',amount='450000.00',ccy='UZS',row=2),
   D('D-104-3','REFUSED','missing_field',row=3),
   D('D-104-4','PENDING','not_approved',row=4),
   D('D-104-5','PENDING','self_approved',row=5),
   D('D-104-6','APPLIED',moved='PAY-2611-010403',sb='UNPAID',sa='UNPAID',amount='450000.00',ccy='UZS',row=6),
   D('D-104-7','APPLIED',moved='PAY-2611-010401',sb='UNPAID',sa='UNPAID',amount='450000.00',ccy='UZS',row=7)],
 "summary":{"decisions":{"applied":4,"pending":2,"refused":1,"by_reason":{"missing_field":1,"not_approved":1,"self_approved":1}},
            "counts":{"by_flag":{"ACCEPTED":3},"by_status":{"UNPAID":2,"DOUBLE_PAID":1}}}
})

# 105: refusals across two files
write('105-v2-decision-refusals', {
 'instructions.csv':[IH, ins('010501','10501','450000.00'), ins('010502','10502','450000.00')],
 'settlements.csv':[SH,
   'UZCARD,UZC-7710501,,8600140200010501,450000.00,,UZS,SETTLED,2026-11-05',
   'UZCARD,UZC-7710502,,8600140200010501,abc,,UZS,SETTLED,2026-11-05',
   'UZCARD,UZC-7710503,,8600140200019999,100000.00,,UZS,SETTLED,2026-11-05',
   'UZCARD,-7710504,,8600140200010502,450000.00,,UZS,SETTLED,2026-11-05'],
 'decisions/a.csv':[DH,
   'E-1,MATCH,UZCARD,UZC-7710502,PAY-2611-010501,names a rejected settlement,aziz.k,dilnoza.r',
   'E-2,MATCH,UZCARD,UZC-7710503,PAY-2611-009999,an instruction of another run,aziz.k,dilnoza.r',
   'E-3,MERGE,UZCARD,UZC-7710503,PAY-2611-010501,,aziz.k,dilnoza.r',
   'E-4,UNMATCH,UZCARD,UZC-7710501,,awaiting approval,aziz.k,',
   'E-5,UNMATCH,UZCARD,UZC-7710501,,paid by the programme office in cash,aziz.k,dilnoza.r',
   'E-6,MATCH,UZCARD,UZC-7710501,PAY-2611-010502,a second decision on the settlement,aziz.k,dilnoza.r',
   'E-7,ACCEPT,,PAY-2611-010501',
   ',ACCEPT,,,PAY-2611-010501,no id,aziz.k,dilnoza.r',
   "E-9,MATCH,UZCARD,'-7710504,PAY-2611-010502,written by the worksheet with its formula guard,aziz.k,dilnoza.r",
   'E-10,match,UZCARD,UZC-7710503,PAY-2611-010501,lower case,aziz.k,dilnoza.r'],
 'decisions/b.csv':[DH,
   'E-5,ACCEPT,,,PAY-2611-010501,the same id in another file,aziz.k,dilnoza.r',
   'E-11,UNMATCH,UZCARD,UZC-7710503,,spaces around the same name,  aziz.k ,aziz.k\t',
   'E-12,,UZCARD,UZC-7710503,,,,'],
}, {
 "description": "C§8 refusals: a MATCH naming a rejected settlement (unknown_settlement) or another run's instruction (unknown_instruction); an unknown action, also in lower case; a pending decision does not touch its settlement, so a later approved one applies, and a third on that settlement is refused (settlement_already_decided); a record of the wrong width (malformed_row); an empty decision_id; a decision_id repeated in a second file (duplicate_decision_id); maker and checker equal after trimming (self_approved); a provider_ref with the worksheet's formula guard (') is read without it; a row with no action (an undecided worksheet row) is pending.",
 "exit_code": 0,
 "instructions":[
   I('PAY-2611-010501','UNPAID','0.00','-450000.00',0,'','E-5'),
   I('PAY-2611-010502','PAID','450000.00','0.00',1,'MANUAL_MATCH','E-9')],
 "settlements":[
   S('UZC-7710501','NONE','','','E-5'),
   S('UZC-7710503','NONE','','',''),
   S('-7710504','MANUAL','PAY-2611-010502','','E-9')],
 "rejects":[{"side":"settlements","file":"settlements.csv","row":2,"column":"amount","reason":"invalid_amount"}],
 "decisions":[
   D('E-1','REFUSED','unknown_settlement',file='decisions/a.csv',row=1),
   D('E-2','REFUSED','unknown_instruction',file='decisions/a.csv',row=2),
   D('E-3','REFUSED','unknown_action',file='decisions/a.csv',row=3),
   D('E-4','PENDING','not_approved',file='decisions/a.csv',row=4),
   D('E-5','APPLIED',moved='PAY-2611-010501',sb='PAID',sa='UNPAID',amount='450000.00',ccy='UZS',mb='FALLBACK',ib='PAY-2611-010501',ma='NONE',file='decisions/a.csv',row=5),
   D('E-6','REFUSED','settlement_already_decided',file='decisions/a.csv',row=6),
   D('','REFUSED','malformed_row',file='decisions/a.csv',row=7),
   D('','REFUSED','missing_decision_id',file='decisions/a.csv',row=8),
   D('E-9','APPLIED',moved='PAY-2611-010502',sb='PAID',sa='PAID',amount='450000.00',ccy='UZS',mb='FALLBACK',ib='PAY-2611-010502',ma='MANUAL',ia='PAY-2611-010502',file='decisions/a.csv',row=9),
   D('E-10','REFUSED','unknown_action',file='decisions/a.csv',row=10),
   D('E-5','REFUSED','duplicate_decision_id',file='decisions/b.csv',row=1),
   D('E-11','PENDING','self_approved',file='decisions/b.csv',row=2),
   D('E-12','PENDING','no_action',file='decisions/b.csv',row=3)],
 "summary":{"decisions":{"applied":2,"pending":3,"refused":8,"by_reason":{"malformed_row":1,"missing_decision_id":1,"duplicate_decision_id":1,"no_action":1,"unknown_action":2,"unknown_settlement":1,"unknown_instruction":1,"not_approved":1,"self_approved":1,"settlement_already_decided":1}}}
})

# 106: missing column
write('106-v2-decision-file-missing-column', {
 'instructions.csv':[IH, ins('010601','10601','450000.00')],
 'settlements.csv':[SH, 'UZCARD,UZC-7710601,PAY-2611-010601,8600140200010601,450000.00,,UZS,SETTLED,2026-11-05'],
 'decisions.csv':['decision_id,action,provider,provider_ref,instruction_id,note,decided_by',
   'D-106-1,ACCEPT,,,PAY-2611-010601,ok,aziz.k'],
}, {
 "description": "C§8 a decision file without one of the eight columns (here approved_by) cannot be used: exit 2 naming the file and the column, nothing written.",
 "exit_code": 2,
 "error_contains": ["decisions.csv", "approved_by"]
})
