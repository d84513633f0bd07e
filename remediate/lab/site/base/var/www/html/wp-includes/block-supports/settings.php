<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/settings.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/settings.php';
