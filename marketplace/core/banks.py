"""Vietnamese banks sellers are paid into: NAPAS 6-digit BIN, short name, full name.

The BIN is what a VietQR transfer needs (marketplace payouts), so members pick a bank
from this list rather than typing a name.
"""

BANKS = (
    ("970405", "Agribank", "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam"),
    ("970436", "Vietcombank", "Ngân hàng TMCP Ngoại thương Việt Nam"),
    ("970415", "VietinBank", "Ngân hàng TMCP Công Thương Việt Nam"),
    ("970418", "BIDV", "Ngân hàng TMCP Đầu tư và Phát triển Việt Nam"),
    ("970446", "Co-opBank", "Ngân hàng Hợp tác xã Việt Nam"),
    ("970422", "MB", "Ngân hàng TMCP Quân đội"),
    ("970407", "Techcombank", "Ngân hàng TMCP Kỹ Thương Việt Nam"),
    ("970416", "ACB", "Ngân hàng TMCP Á Châu"),
    ("970432", "VPBank", "Ngân hàng TMCP Việt Nam Thịnh Vượng"),
    ("970423", "TPBank", "Ngân hàng TMCP Tiên Phong"),
    ("970403", "Sacombank", "Ngân hàng TMCP Sài Gòn Thương Tín"),
    ("970437", "HDBank", "Ngân hàng TMCP Phát triển TP. Hồ Chí Minh"),
    ("970441", "VIB", "Ngân hàng TMCP Quốc tế Việt Nam"),
    ("970443", "SHB", "Ngân hàng TMCP Sài Gòn - Hà Nội"),
    ("970431", "Eximbank", "Ngân hàng TMCP Xuất Nhập khẩu Việt Nam"),
    ("970426", "MSB", "Ngân hàng TMCP Hàng Hải Việt Nam"),
    ("970448", "OCB", "Ngân hàng TMCP Phương Đông"),
    ("970440", "SeABank", "Ngân hàng TMCP Đông Nam Á"),
    ("970449", "LPBank", "Ngân hàng TMCP Lộc Phát Việt Nam"),
    ("970452", "KienlongBank", "Ngân hàng TMCP Kiên Long"),
    ("970409", "BacABank", "Ngân hàng TMCP Bắc Á"),
    ("970428", "Nam A Bank", "Ngân hàng TMCP Nam Á"),
    ("970412", "PVcomBank", "Ngân hàng TMCP Đại Chúng Việt Nam"),
    ("970425", "ABBANK", "Ngân hàng TMCP An Bình"),
    ("970427", "VietABank", "Ngân hàng TMCP Việt Á"),
    ("970419", "NCB", "Ngân hàng TMCP Quốc Dân"),
    ("970438", "BaoVietBank", "Ngân hàng TMCP Bảo Việt"),
    ("970433", "VietBank", "Ngân hàng TMCP Việt Nam Thương Tín"),
    ("970454", "Vietcapital Bank", "Ngân hàng TMCP Bản Việt"),
    ("970400", "Saigonbank", "Ngân hàng TMCP Sài Gòn Công Thương"),
)
BY_BIN = {bin_: (short, full) for bin_, short, full in BANKS}


def choices() -> list[tuple[str, str]]:
    return [(bin_, f"{short} — {full}") for bin_, short, full in BANKS]


def short_name(bin_: str) -> str:
    return BY_BIN.get(bin_, ("", ""))[0]
