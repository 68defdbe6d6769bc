"""Word lists for the seed: people, companies and addresses of several countries.

Country spellings are messy on purpose (``USA``, ``U.S.``, ``Deutschland``, ``Allemagne``, blank)
so the ``CountryRegionCode`` transform has real work to do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """Names and addresses typical of one country, and the ways people write its name."""

    weight: int
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    #: (city, state or province, county, postal code pattern: ``#`` is a digit)
    cities: tuple[tuple[str, str | None, str | None, str], ...]
    #: how users type the country; ``None`` and ``""`` are blanks
    countries: tuple[str | None, ...]
    #: street patterns: ``{n}`` number, ``{s}`` street name
    street_patterns: tuple[str, ...]
    street_names: tuple[str, ...]
    phone_pattern: str
    company_patterns: tuple[str, ...]
    job_titles: tuple[str, ...]
    email_domain: str


WORDS = (
    "Contoso", "Fabrikam", "Northwind", "Adventure Works", "Tailspin", "Litware", "Proseware",
    "Wingtip", "Alpine Ski House", "Blue Yonder", "Coho Vineyard", "Fourth Coffee", "Lamna",
    "Margie's Travel", "Trey Research", "Woodgrove", "Wide World Importers", "Humongous",
)  # fmt: skip

REGIONS: tuple[Region, ...] = (
    Region(
        weight=40,
        first_names=(
            "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
            "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
            "Thomas", "Sarah", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Ashley", "José",
            "María", "Zoë", "Renée", "Chloé", "DeShawn", "Nguyễn", "Aaliyah",
        ),
        last_names=(
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
            "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
            "Taylor", "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White",
            "O'Brien", "Nguyen", "Kowalski", "Van der Berg", "McAllister",
        ),
        cities=(
            ("Seattle", "WA", "King", "981##"), ("Redmond", "WA", "King", "980##"),
            ("Chicago", "IL", "Cook", "606##"), ("New York", "NY", "New York", "100##"),
            ("Austin", "TX", "Travis", "787##"), ("San Francisco", "CA", "San Francisco", "941##"),
            ("Boston", "MA", "Suffolk", "021##"), ("Denver", "CO", "Denver", "802##"),
            ("Atlanta", "GA", "Fulton", "303##"), ("Miami", "FL", None, "331##"),
        ),
        countries=(
            "United States", "United States", "United States", "USA", "USA", "USA", "U.S.",
            "us", "US", "United States of America", "U.S.A.", "America", "", None,
        ),
        street_patterns=("{n} {s} St", "{n} {s} Ave", "{n} {s} Blvd", "{n} {s} Road, Suite 1{n}"),
        street_names=("Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill"),
        phone_pattern="+1 (###) ###-####",
        company_patterns=("{w} Inc.", "{l} & Sons", "{w} LLC", "{l} {w} Corp.", "{w}"),
        job_titles=("Purchasing Manager", "CEO", "Sales Director", "Accountant", "Buyer", "CFO"),
        email_domain="example.com",
    ),
    Region(
        weight=15,
        first_names=(
            "Jürgen", "Günther", "Maximilian", "Anna", "Jörg", "Käthe", "Björn", "Leonie",
            "Florian", "Ursula", "Matthias", "Sabine", "Stefan", "Lena", "Uwe", "Mia",
        ),
        last_names=(
            "Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Meyer", "Wagner", "Becker",
            "Schäfer", "Köhler", "Groß", "Hoffmann", "Schröder", "Zimmermann", "Krüger",
        ),
        cities=(
            ("Berlin", "Berlin", None, "10###"), ("München", "Bayern", "Oberbayern", "80###"),
            ("Hamburg", "Hamburg", None, "20###"), ("Köln", "NRW", "Köln", "50###"),
            ("Frankfurt am Main", "Hessen", None, "60###"), ("Stuttgart", "BW", None, "70###"),
            ("Düsseldorf", "NRW", None, "40###"),
        ),
        countries=(
            "Deutschland", "Deutschland", "Germany", "Germany", "Germany", "Allemagne", "DE",
            "DEU", "germany", "Federal Republic of Germany", "", None,
        ),
        street_patterns=("{s}straße {n}", "{s}str. {n}", "{s}weg {n}", "Am {s}platz {n}"),
        street_names=("Haupt", "Bahnhof", "Schiller", "Goethe", "Linden", "Berg", "Kirch"),
        phone_pattern="+49 ### #######",
        company_patterns=("{l} GmbH", "{w} AG", "{l} & {l} KG", "{w} Deutschland GmbH"),
        job_titles=("Einkaufsleiter", "Geschäftsführer", "Vertriebsleiterin", "Buchhalter"),
        email_domain="example.de",
    ),
    Region(
        weight=8,
        first_names=(
            "Amélie", "François", "Hélène", "Benoît", "Chloé", "Jérôme", "Céline", "Théo",
            "Léa", "Noël", "Élodie", "Maël",
        ),
        last_names=(
            "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Bonnet",
            "Fournier", "Mercier", "Chevalier", "Garçon", "Bélanger",
        ),
        cities=(
            ("Paris", "Île-de-France", "Paris", "750##"),
            ("Lyon", "Auvergne-Rhône-Alpes", "Rhône", "690##"),
            ("Marseille", "Provence-Alpes-Côte d'Azur", None, "130##"),
            ("Toulouse", "Occitanie", None, "310##"), ("Nantes", None, None, "440##"),
        ),
        countries=("France", "France", "France", "FR", "Frankreich", "République française", ""),
        street_patterns=("{n} rue {s}", "{n} avenue {s}", "{n} boulevard {s}"),
        street_names=("de la Paix", "Victor Hugo", "des Lilas", "Pasteur", "Jean Jaurès"),
        phone_pattern="+33 # ## ## ## ##",
        company_patterns=("{l} SARL", "{w} SA", "Société {l}", "{w} France"),
        job_titles=("Directeur commercial", "Acheteuse", "Comptable", "PDG"),
        email_domain="example.fr",
    ),
    Region(
        weight=8,
        first_names=("Oliver", "Amelia", "Siobhán", "Eóin", "Harry", "Isla", "George", "Ava"),
        last_names=("Smith", "Jones", "Taylor", "O'Connor", "Evans", "Davies", "MacLeod"),
        cities=(
            ("London", None, "Greater London", "SW1A #AA"),
            ("Manchester", None, "Greater Manchester", "M# #AB"),
            ("Edinburgh", "Scotland", None, "EH# #BX"),
        ),
        countries=("United Kingdom", "UK", "Great Britain", "England", "GB", "U.K.", None),
        street_patterns=("{n} {s} Street", "{n} {s} Lane", "Flat {n}, {s} Road"),
        street_names=("High", "Church", "Station", "Victoria", "Green"),
        phone_pattern="+44 20 #### ####",
        company_patterns=("{w} Ltd", "{l} plc", "{w} UK Ltd"),
        job_titles=("Procurement Lead", "Managing Director", "Accounts Payable"),
        email_domain="example.co.uk",
    ),
    Region(
        weight=7,
        first_names=("José", "María", "Íñigo", "Begoña", "Ángel", "Lucía", "Sofía", "Andrés"),
        last_names=("García", "Fernández", "López", "Martínez", "Sánchez", "Gómez", "Núñez"),
        cities=(
            ("Madrid", "Madrid", None, "280##"), ("Barcelona", "Cataluña", None, "080##"),
            ("Sevilla", "Andalucía", None, "410##"), ("Valencia", None, None, "460##"),
        ),
        countries=("España", "Spain", "Spain", "ES", "Spanien", "Espagne", ""),
        street_patterns=("Calle {s} {n}", "Avenida {s} {n}"),
        street_names=("Mayor", "de Alcalá", "Gran Vía", "del Sol"),
        phone_pattern="+34 ### ### ###",
        company_patterns=("{l} S.L.", "{w} S.A.", "Hermanos {l}"),
        job_titles=("Director de compras", "Gerente", "Contable"),
        email_domain="example.es",
    ),
    Region(
        weight=5,
        first_names=("Søren", "Åse", "Mads", "Frederikke", "Jørgen", "Mette", "Ærling"),
        last_names=("Sørensen", "Jørgensen", "Nielsen", "Hansen", "Andersen", "Bødker"),
        cities=(("København", None, None, "1###"), ("Aarhus", None, None, "8000"),),
        countries=("Danmark", "Denmark", "DK", "Dänemark"),
        street_patterns=("{s}gade {n}", "{s}vej {n}"),
        street_names=("Nørre", "Øster", "Vester", "Strand"),
        phone_pattern="+45 ## ## ## ##",
        company_patterns=("{l} A/S", "{w} ApS"),
        job_titles=("Indkøbschef", "Direktør"),
        email_domain="example.dk",
    ),
    Region(
        weight=7,
        first_names=("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "Wei", "Li"),
        last_names=("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "Wang", "Zhang"),
        cities=(
            ("北京", "北京市", None, "1000##"), ("上海", "上海市", None, "2000##"),
            ("深圳", "广东省", None, "5180##"), ("Beijing", None, None, "1000##"),
        ),
        countries=("中国", "China", "China", "CN", "People's Republic of China", "PRC"),
        street_patterns=("{s}路{n}号", "{n} {s} Road"),
        street_names=("中山", "人民", "解放", "Nanjing"),
        phone_pattern="+86 1## #### ####",
        company_patterns=("{l}氏有限公司", "{w} China Ltd", "{w}（中国）有限公司"),
        job_titles=("采购经理", "总经理", "Sales Manager"),
        email_domain="example.cn",
    ),
    Region(
        weight=5,
        first_names=("Иван", "Ольга", "Дмитрий", "Наталья", "Сергей", "Анна", "Ivan"),
        last_names=("Иванов", "Смирнова", "Кузнецов", "Попова", "Волков", "Petrov"),
        cities=(("Москва", None, None, "101###"), ("Санкт-Петербург", None, None, "190###")),
        countries=("Россия", "Russia", "Russian Federation", "RU", "Russland"),
        street_patterns=("ул. {s}, д. {n}", "{s} prospekt {n}"),
        street_names=("Ленина", "Тверская", "Arbat"),
        phone_pattern="+7 495 ###-##-##",
        company_patterns=("ООО «{l}»", "{w} Rus"),
        job_titles=("Директор", "Менеджер по закупкам"),
        email_domain="example.ru",
    ),
    Region(
        weight=5,
        first_names=("太郎", "花子", "翔", "陽菜", "Haruto", "Yui"),
        last_names=("佐藤", "鈴木", "高橋", "田中", "Sato", "Tanaka"),
        cities=(("東京", "東京都", None, "100-####"), ("大阪", "大阪府", None, "530-####")),
        countries=("日本", "Japan", "JP", "Japon"),
        street_patterns=("{s}{n}-1", "{n} {s}-cho"),
        street_names=("千代田", "中央", "Shibuya"),
        phone_pattern="+81 3-####-####",
        company_patterns=("株式会社{l}", "{w} Japan K.K."),
        job_titles=("購買部長", "代表取締役"),
        email_domain="example.jp",
    ),
)  # fmt: skip
