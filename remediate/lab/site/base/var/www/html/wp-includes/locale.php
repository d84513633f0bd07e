<?php
/**
 * WordPress-like lab stub for wp-includes/locale.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'locale.php';
