<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/generated-classname.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/generated-classname.php';
