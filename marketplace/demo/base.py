"""Demo catalogue: producers from the provinces of the 2025 map and what they are known for.

`seed(stdout)` is idempotent: products are keyed by UPC, stock records by the producer's
SKU, users by e-mail, categories by name, so running it twice doubles nothing.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.db import transaction
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_model

from marketplace.catalogue import batches
from marketplace.core import geo
from marketplace.core.links import site_domain
from marketplace.core.names import joined, name_fields
from marketplace.demo.images import draw_farm_photo, draw_product_image
from marketplace.fulfilment import shipping
from marketplace.models import ProducerPhoto, ProducerProfile
from marketplace.shops.services import open_producer_shop

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductAttribute = get_model("catalogue", "ProductAttribute")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

DEMO_PASSWORD = "nongsan2026"

# name, image style, description
CATEGORIES = {
    "coffee": ("Cà phê", "Cà phê hạt và rang xay từ Tây Nguyên và Tây Bắc."),
    "rice": ("Gạo", "Gạo thơm đồng bằng sông Cửu Long, trong đó có ST25."),
    "fruit": ("Trái cây", "Trái cây theo mùa, hái tại vườn và giao tận nhà."),
    "spice": ("Gia vị", "Hồ tiêu, quế, hành tím… từ vùng trồng nổi tiếng."),
    "honey": ("Mật ong", "Mật ong nguyên chất từ các đàn ong của nông hộ."),
    "herb": ("Dược liệu", "Sâm Ngọc Linh, đương quy, atisô và dược liệu quý."),
    "tea": ("Chè và trà", "Chè Tân Cương, Shan tuyết và trà thảo mộc."),
    "dried": ("Hạt và đặc sản khô", "Hạt mắc ca, long nhãn, hồng sấy, miến dong."),
}

# key: (name, kind, province code, commune name, address, story)
PRODUCERS = {
    "eakiet": (
        "Hợp tác xã Cà phê Công bằng Ea Kiết",
        ProducerProfile.Kind.COOPERATIVE,
        66,
        "Ea Kiết",
        "Buôn Ea Kiết",
        "120 hộ thành viên trồng cà phê Robusta trên đất đỏ bazan, thu hái quả chín.",
    ),
    "krongpac": (
        "Hộ ông Nguyễn Văn Hùng",
        ProducerProfile.Kind.HOUSEHOLD,
        66,
        "Krông Pắc",
        "Thôn 3",
        "Vườn sầu riêng và bơ 4 ha, bón phân hữu cơ, thu hoạch khi trái chín cây.",
    ),
    "chuse": (
        "Hợp tác xã Hồ tiêu Chư Sê",
        ProducerProfile.Kind.COOPERATIVE,
        52,
        "Chư Sê",
        "Làng Ia Pal",
        "Hồ tiêu Chư Sê phơi nắng tự nhiên, sàng lọc thủ công; thêm cà phê Robusta.",
    ),
    "ngoclinh": (
        "Công ty Sâm Ngọc Linh Măng Đen",
        ProducerProfile.Kind.ENTERPRISE,
        51,
        "Măng Đen",
        "Thôn Kon Pring",
        "Vườn sâm dưới tán rừng ở độ cao trên 1.800 m của núi Ngọc Linh.",
    ),
    "trabong": (
        "Hộ bà Hồ Thị Mai",
        ProducerProfile.Kind.HOUSEHOLD,
        51,
        "Trà Bồng",
        "Thôn Trà Lãnh",
        "Đồi quế hơn 20 năm tuổi của người Cor, bóc vỏ và phơi theo cách truyền thống.",
    ),
    "chodon": (
        "Hợp tác xã Nông sản Chợ Đồn",
        ProducerProfile.Kind.COOPERATIVE,
        19,
        "Chợ Đồn",
        "Bản Lù",
        "Hồng không hạt, miến dong và mật ong rừng của vùng Bắc Kạn cũ.",
    ),
    "tancuong": (
        "Hộ ông Đỗ Văn Thành",
        ProducerProfile.Kind.HOUSEHOLD,
        19,
        "Tân Cương",
        "Xóm Hồng Thái 2",
        "Ba đời làm chè Tân Cương, sao chè bằng chảo gang.",
    ),
    "st25": (
        "Hợp tác xã Lúa gạo Mỹ Xuyên",
        ProducerProfile.Kind.COOPERATIVE,
        92,
        "Mỹ Xuyên",
        "Ấp Hòa Lời",
        "Canh tác lúa ST25 luân canh lúa – tôm, không dùng thuốc diệt cỏ.",
    ),
    "dalat": (
        "Hộ bà Trần Thị Lan",
        ProducerProfile.Kind.HOUSEHOLD,
        68,
        "Xuân Trường - Đà Lạt",
        "Thôn Trường Sơn",
        "Nông trại nhỏ trên đồi Cầu Đất: dâu tây, atisô, bơ và cà phê Arabica.",
    ),
    "hungyen": (
        "Hợp tác xã Nhãn lồng Phố Hiến",
        ProducerProfile.Kind.COOPERATIVE,
        33,
        "Phố Hiến",
        "Phố Nam Hòa",
        "Giữ gìn giống nhãn lồng tiến vua, làm long nhãn và mật ong hoa nhãn.",
    ),
    "mocchau": (
        "Hợp tác xã Nông nghiệp Mộc Châu",
        ProducerProfile.Kind.COOPERATIVE,
        14,
        "Mộc Châu",
        "Tiểu khu 19/5",
        "Mận hậu, chè Shan tuyết và cà phê Arabica trên cao nguyên Mộc Châu.",
    ),
}

# upc, producer, category, title, unit, weight (kg), price (đồng), stock, description
# fmt: off
PRODUCTS = [
    ("NS0001", "eakiet", "coffee", "Cà phê Robusta Buôn Ma Thuột rang xay 500g", "gói", 0.5,
     145000, 120, "Robusta Buôn Ma Thuột chỉ hái quả chín, rang mộc, xay vừa cho phin."),
    ("NS0002", "eakiet", "coffee", "Cà phê hạt Robusta Buôn Ma Thuột rang mộc 1kg", "gói", 1.0,
     260000, 80, "Hạt rang mộc không tẩm ướp, đậm và ít chua; hợp pha phin hoặc máy."),
    ("8936045000014", "eakiet", "coffee", "Cà phê Culi Buôn Ma Thuột 250g", "gói", 0.25,
     95000, 60, "Hạt culi tròn tuyển chọn, vị đậm, hậu ngọt."),
    ("NS0004", "eakiet", "honey", "Mật ong hoa cà phê Đắk Lắk 500ml", "chai", 0.7,
     180000, 40, "Mật ong mùa hoa cà phê tháng Giêng – tháng Ba, màu hổ phách nhạt."),
    ("NS0005", "krongpac", "fruit", "Sầu riêng Ri6 Krông Pắc", "kg", 1.0,
     120000, 200, "Cơm vàng, ráo, hạt lép; cắt chín cây, giao trong 48 giờ."),
    ("NS0006", "krongpac", "fruit", "Sầu riêng Monthong Đắk Lắk", "kg", 1.0,
     110000, 150, "Múi to, cơm dày, vị ngọt béo; mỗi trái 2,5 – 4 kg."),
    ("NS0007", "krongpac", "fruit", "Bơ booth Đắk Lắk", "kg", 1.0,
     55000, 300, "Bơ booth trái lớn, dẻo, ít xơ; hợp làm sinh tố."),
    ("NS0008", "krongpac", "dried", "Hạt mắc ca Đắk Lắk rang nứt vỏ 500g", "hộp", 0.5,
     190000, 70, "Mắc ca sấy nứt vỏ, kèm dụng cụ tách; béo và thơm."),
    ("NS0009", "chuse", "spice", "Hồ tiêu đen Chư Sê 500g", "gói", 0.5,
     110000, 200, "Tiêu đen hạt chắc, cay nồng, phơi nắng tự nhiên."),
    ("NS0010", "chuse", "spice", "Tiêu sọ trắng Chư Sê 250g", "hũ", 0.3,
     120000, 90, "Tiêu sọ bóc vỏ thủ công, thơm dịu, hợp món cháo và súp."),
    ("NS0011", "chuse", "spice", "Tiêu đỏ chín cây Chư Sê 200g", "hũ", 0.25,
     150000, 50, "Chỉ hái những chùm tiêu chín đỏ, vị cay ngọt đặc biệt."),
    ("8936045000021", "chuse", "coffee", "Cà phê Robusta Gia Lai rang xay 500g", "gói", 0.5,
     130000, 100, "Robusta trồng xen hồ tiêu, rang vừa, vị cân bằng."),
    ("NS0013", "ngoclinh", "herb", "Sâm Ngọc Linh tươi 10 năm tuổi (100 g)", "hộp", 0.2,
     5200000, 12, "Củ sâm trồng dưới tán rừng, kèm giấy xác nhận nguồn gốc."),
    ("8936045000038", "ngoclinh", "herb", "Sâm Ngọc Linh thái lát sấy 50 g", "hộp", 0.1,
     2800000, 20, "Sâm thái lát sấy lạnh, dùng ngậm hoặc hãm trà."),
    ("NS0015", "ngoclinh", "tea", "Trà túi lọc lá sâm Ngọc Linh (20 túi)", "hộp", 0.1,
     180000, 80, "Lá sâm sấy khô, vị đắng nhẹ, hậu ngọt."),
    ("NS0016", "ngoclinh", "herb", "Đương quy Ngọc Linh sấy khô 500g", "gói", 0.5,
     250000, 40, "Rễ đương quy trồng ở độ cao trên 1.500 m."),
    ("NS0017", "trabong", "spice", "Quế Trà Bồng thanh 500g", "gói", 0.5,
     85000, 150, "Vỏ quế dày, nhiều tinh dầu, cay ngọt."),
    ("NS0018", "trabong", "spice", "Quế Trà Bồng bột 200g", "hũ", 0.25,
     65000, 100, "Quế xay mịn, không pha trộn."),
    ("NS0019", "chodon", "fruit", "Hồng không hạt Chợ Đồn", "kg", 1.0,
     60000, 180, "Hồng giòn ngọt, không hạt, thu hoạch tháng 9 – 10."),
    ("NS0020", "chodon", "dried", "Hồng sấy dẻo Bắc Kạn 500g", "hộp", 0.5,
     150000, 60, "Hồng không hạt sấy dẻo, không đường, không chất bảo quản."),
    ("NS0021", "chodon", "dried", "Miến dong Bắc Kạn 1kg", "gói", 1.0,
     90000, 120, "Miến dong riềng sợi dai, không hóa chất tẩy trắng."),
    ("NS0022", "chodon", "honey", "Mật ong rừng Bắc Kạn 500ml", "chai", 0.7,
     250000, 30, "Mật ong rừng khai thác tự nhiên, độ ẩm thấp."),
    ("NS0023", "tancuong", "tea", "Chè Tân Cương đặc biệt 200g", "gói", 0.2,
     180000, 90, "Một tôm hai lá, sao tay; nước xanh, hậu ngọt."),
    ("NS0024", "tancuong", "tea", "Chè móc câu Thái Nguyên 500g", "gói", 0.5,
     250000, 60, "Búp chè cánh nhỏ xoăn như móc câu, hương cốm."),
    ("NS0025", "st25", "rice", "Gạo ST25 Sóc Trăng túi 5kg", "túi", 5.0,
     185000, 250, "Gạo ST25 hạt dài, dẻo, thơm lá dứa."),
    ("NS0026", "st25", "rice", "Gạo ST25 lúa tôm 5kg", "túi", 5.0,
     210000, 150, "Lúa trồng luân canh với tôm, không thuốc diệt cỏ."),
    ("NS0027", "st25", "rice", "Gạo lứt ST25 2kg", "túi", 2.0,
     90000, 100, "Gạo lứt giữ nguyên cám, tốt cho người ăn kiêng."),
    ("NS0028", "st25", "spice", "Hành tím Vĩnh Châu 1kg", "kg", 1.0,
     60000, 200, "Củ nhỏ, chắc, thơm; phơi khô để được lâu."),
    ("NS0029", "dalat", "herb", "Trà atisô Đà Lạt túi lọc (100 túi)", "hộp", 0.3,
     120000, 80, "Thân, rễ và hoa atisô sấy, thanh mát."),
    ("NS0030", "dalat", "fruit", "Dâu tây Đà Lạt hộp 500g", "hộp", 0.6,
     120000, 40, "Dâu tây trồng trong nhà màng, hái buổi sáng."),
    ("NS0031", "dalat", "fruit", "Bơ 034 Lâm Đồng", "kg", 1.0,
     65000, 150, "Bơ 034 trái dài, cơm vàng, béo."),
    ("NS0032", "dalat", "coffee", "Cà phê Arabica Cầu Đất rang xay 500g", "gói", 0.5,
     210000, 50, "Arabica trồng trên 1.500 m, chua thanh, hương trái cây."),
    ("NS0033", "hungyen", "fruit", "Nhãn lồng Hưng Yên", "kg", 1.0,
     70000, 120, "Cùi dày, giòn, ngọt sắc; thu hoạch tháng 7 – 8."),
    ("NS0034", "hungyen", "dried", "Long nhãn sấy Hưng Yên 500g", "gói", 0.5,
     200000, 50, "Cùi nhãn lồng sấy than hoa, dẻo và thơm."),
    ("NS0035", "hungyen", "honey", "Mật ong hoa nhãn Hưng Yên 1 lít", "chai", 1.4,
     230000, 40, "Mật ong mùa hoa nhãn, thơm mùi nhãn chín."),
    ("NS0036", "mocchau", "fruit", "Mận hậu Mộc Châu", "kg", 1.0,
     45000, 200, "Mận giòn, chua ngọt, vào mùa tháng 5 – 6."),
    ("NS0037", "mocchau", "tea", "Chè Shan tuyết Mộc Châu 200g", "gói", 0.2,
     160000, 70, "Chè từ cây Shan tuyết cổ thụ, búp phủ lông tơ trắng."),
    ("NS0038", "mocchau", "coffee", "Cà phê Arabica Sơn La rang xay 500g", "gói", 0.5,
     170000, 60, "Arabica Catimor vùng Tây Bắc, rang vừa."),
]
# fmt: on

# e-mail, first name, last name; the farmer owns the "krongpac" shop.
USERS = {
    "buyer": ("nguoimua@nongsan.test", "Phạm Thị Lan"),
    "farmer": ("nongdan@nongsan.test", "Nguyễn Văn Hùng"),
    "operator": ("quantri@nongsan.test", "Lê Quang Minh"),
}
FARMER_SHOP = "krongpac"


def ensure_user(email: str, full_name: str, family_name: str = "", **flags):
    """The demo user with this e-mail, named `full_name` (or, given in two parts, the
    family name and the given name joined in Vietnamese order)."""
    full_name = joined(full_name, family_name)
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, username=email.split("@")[0])
    for field, value in name_fields(full_name).items():
        setattr(user, field, value)
    for key, value in flags.items():
        setattr(user, key, value)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def _product_class():
    pclass, _ = ProductClass.objects.get_or_create(
        name="Nông sản", defaults={"requires_shipping": True, "track_stock": True}
    )
    ProductAttribute.objects.get_or_create(
        product_class=pclass, code="unit", defaults={"name": "Đơn vị", "type": "text"}
    )
    ProductAttribute.objects.get_or_create(
        product_class=pclass, code="weight", defaults={"name": "Khối lượng (kg)", "type": "float"}
    )
    return pclass


@transaction.atomic
def seed(stdout) -> list[str]:
    """Create or update the demo catalogue and its users; return lines for the console."""
    Site.objects.update_or_create(pk=1, defaults={"domain": site_domain(), "name": "Nông sản"})
    # What migrations 0006/0007 made, again: a flushed database (tests) has lost it.
    shipping.ensure_vietnam()
    shipping.ensure_default_rates()
    users = {role: ensure_user(*data) for role, data in USERS.items()}
    users["operator"].is_staff = users["operator"].is_superuser = True
    users["operator"].save()

    categories = {}
    for key, (name, description) in CATEGORIES.items():
        category = create_from_breadcrumbs(name)
        if category.description != description:
            category.description = description
            category.save()
        categories[key] = category

    partners = {}
    for key, (name, kind, province, commune, address, story) in PRODUCERS.items():
        partners[key] = open_producer_shop(
            name=name,
            kind=kind,
            province_code=province,
            commune_code=geo.find_commune(province, commune),
            address_line=address,
            story=story,
            owner=users["farmer"] if key == FARMER_SHOP else None,
        )
        profile = partners[key].producer_profile
        if not profile.photos.exists():
            photo = ProducerPhoto(producer=profile, caption=f"{name} — {commune}")
            photo.image.save(f"{key}.jpg", ContentFile(draw_farm_photo(key)))

    pclass = _product_class()
    for upc, producer, cat, title, unit, weight, price, stock, description in PRODUCTS:
        product = Product.objects.filter(upc=upc).first() or Product(upc=upc)
        product.title, product.description = title, description
        product.product_class, product.structure = pclass, Product.STANDALONE
        if product.pk is None:  # seeding again keeps what happened since (a recall hides it)
            product.is_public = True
        product.attr.unit, product.attr.weight = unit, weight
        product.save()
        ProductCategory.objects.get_or_create(product=product, category=categories[cat])
        defaults = {
            "product": product,
            "price": Decimal(price),
            "price_currency": "VND",
            "num_in_stock": stock,
        }
        record = StockRecord.objects.filter(partner=partners[producer], partner_sku=upc).first()
        if record is not None and batches.is_lot_sold(record):
            del defaults["num_in_stock"]  # sold from lots: its stock is theirs
        StockRecord.objects.update_or_create(
            partner=partners[producer], partner_sku=upc, defaults=defaults
        )
        if not product.images.exists():
            image = ProductImage(product=product, display_order=0, caption=title)
            image.original.save(
                f"{upc.lower()}.jpg", ContentFile(draw_product_image(upc, cat, title))
            )

    shop = PRODUCERS[FARMER_SHOP][0]
    return [
        f"  {len(PRODUCTS)} products, {len(CATEGORIES)} categories, {len(PRODUCERS)} producers",
        f"  Buyer     {USERS['buyer'][0]:<28} {DEMO_PASSWORD}",
        f"  Farmer    {USERS['farmer'][0]:<28} {DEMO_PASSWORD}  (shop: {shop}; /cua-hang/)",
        f"  Operator  {USERS['operator'][0]:<28} {DEMO_PASSWORD}  (/quan-tri/)",
    ]
