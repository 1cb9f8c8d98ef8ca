from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('wagate', '0003_bots')]

    initial = False

    operations = [
        ops.DeleteModel(name='ApiKey'),
    ]
