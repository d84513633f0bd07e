<?php
/**
 * WordPress-like lab stub for wp-includes/deprecated.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'deprecated.php';
